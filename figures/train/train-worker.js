// The training of the "watch them learn" figure, off the page's main thread: a module
// worker with its own TF.js (whole, for its gradients, and the wasm backend, from lib/), holding the
// digits, both models and the judge (the page's classifier, loaded and checked as the page loads it:
// js/models.js). All per-epoch work is done here; the page only draws what comes back.
// Messages in: {type: 'start', spec, bytes, beta, colours, markColours, judge: {probe, threshold, files}} (the
// build's data.train, the bytes of its digits file, the classes' colours and the judge's marks', the judge's probe, threshold
// and file list), {type: 'epoch'} (one epoch of both models), {type: 'reset', models: ['ae', 'vae'], beta}.
// Out: {type: 'ready' | 'epoch' | 'reset'} with, for each model, its epoch, β, losses, the dots' codes
// (Float32Array), the decoded grid as RGBA pixels (Uint8ClampedArray, black ink on white, ready for
// putImageData), the judge's reading of each grid cell (Int8Array: the digit, or -1 when it is not
// recognisable) and its share of recognisable decodes of N(0, I) draws; where the worker has
// OffscreenCanvas, `image` is the whole plane drawn (dots and marks too: `drawn`, with `outside`, the
// count of codes off the square). Then {type: 'marks'}, the same again with the judge's readings once
// it has loaded after 'ready'; or {type: 'error', message}. The arrays are transferred, not copied. Each answer carries the `gen` of the message it answers.
import { createModel, normals } from './trainer.js';
import { configure, initBackend, loadModel } from './models.js';
import { drawPlane } from './train.js';

const version = new URL(import.meta.url).searchParams.get('v');
const lib = name => new URL(`../lib/${name}${version ? `?v=${version}` : ''}`, import.meta.url).href;
const SIZE = 28;                                // a decoded cell's pixels per side
// decoded cells per side, over [-SPAN, SPAN]^2 (the build's spec.grid and spec.span), the cells' centres,
// and where the planes are drawn, if this worker can
let GRID, SPAN, grid, plane;
let spec, x, dots, draws, models = {};
let judge = null, judgeError = null, threshold = 0, labels, colours, markColours;

function layout() {
  ({ grid: GRID, span: SPAN } = spec);
  grid = Float32Array.from({ length: GRID * GRID * 2 }, (_, k) => {
    const cell = k >> 1, step = 2 * SPAN / GRID;
    return k % 2 ? SPAN - (Math.floor(cell / GRID) + 0.5) * step : -SPAN + (cell % GRID + 0.5) * step;   // rows top down
  });
  plane = typeof OffscreenCanvas === 'function'
    ? new OffscreenCanvas(GRID * SIZE, GRID * SIZE).getContext('2d', { willReadFrequently: true }) : null;
}

/** TF.js on WebAssembly (single-threaded, as on the page), else on plain JavaScript: js/models.js's start-up. */
async function backend(files) {
  for (const name of ['tf.min.js', 'tf-backend-wasm.min.js']) await import(lib(name));
  configure({ build: version, files, base: new URL('../', import.meta.url).href });
  await initBackend();
}

function reset(names, beta) {
  for (const name of names) {
    models[name]?.dispose();
    models[name] = createModel(spec, name === 'vae', name === 'vae' ? beta : 0);
  }
}

/** RGBA pixels of the decoded grid (K x 784 probabilities, cells row by row): black ink on white. */
function pixels(cells) {
  const width = GRID * SIZE, out = new Uint8ClampedArray(width * width * 4);
  for (let k = 0; k < GRID * GRID; k++) {
    const ox = (k % GRID) * SIZE, oy = Math.floor(k / GRID) * SIZE;
    for (let p = 0; p < SIZE * SIZE; p++) {
      const v = 255 - Math.round(255 * cells[k * SIZE * SIZE + p]);
      const at = 4 * ((oy + Math.floor(p / SIZE)) * width + ox + p % SIZE);
      out[at] = out[at + 1] = out[at + 2] = v;
      out[at + 3] = 255;
    }
  }
  return out;
}

/** The judge's reading of the grid's cells (digit, or -1: not recognisable) and its share of
 * recognisable draws, from one pass over both (28x28 images padded to 32x32); null without a judge. */
function judged(cells, drawn) {
  if (!judge) return { marks: null, share: null };
  return tf.tidy(() => {
    const n = GRID * GRID, all = new Float32Array(cells.length + drawn.length);
    all.set(cells);
    all.set(drawn, cells.length);
    const images = tf.tensor4d(all, [all.length / (SIZE * SIZE), SIZE, SIZE, 1]);
    const p = judge.predict(tf.pad(images, [[0, 0], [2, 2], [2, 2], [0, 0]]));
    const top = tf.max(p, 1).dataSync(), label = tf.argMax(p, 1).dataSync();
    const marks = Int8Array.from({ length: n }, (_, k) => (top[k] >= threshold ? label[k] : -1));
    let ok = 0;
    for (let k = n; k < top.length; k++) ok += top[k] >= threshold;
    return { marks, share: ok / (top.length - n) };
  });
}

/** What the page shows of a model: with OffscreenCanvas, its plane drawn (`drawn`: dots and marks
 * in `image`), else the grid's pixels for the page to draw on. */
function view(name, result) {
  const m = models[name], cells = m.decode(grid);
  const d = { epoch: m.epoch, beta: m.beta, recon: result?.recon ?? null, kl: result?.kl ?? null,
              codes: m.encode(dots), image: pixels(cells), ...judged(cells, m.decode(draws)), judgeError, drawn: false };
  if (plane) {
    d.outside = drawPlane(plane, d, { labels, colours, markColours, span: SPAN, grid: GRID });
    d.image = plane.getImageData(0, 0, GRID * SIZE, GRID * SIZE).data;
    d.drawn = true;
  }
  return d;
}

/** The buffers of a message's typed arrays, to transfer. */
const buffers = out => ['ae', 'vae'].flatMap(m => (out[m] ? [out[m].codes, out[m].image, out[m].marks] : []))
  .filter(Boolean).map(a => a.buffer);

async function handle(msg) {
  if (msg.type === 'start') {
    await backend(msg.judge?.files ?? null);
    spec = msg.spec;
    layout();
    const bytes = new Uint8Array(msg.bytes), size = 784;
    x = tf.tidy(() => tf.div(tf.tensor2d(bytes.subarray(0, spec.n * size), [spec.n, size], 'float32'), 255));
    dots = tf.tidy(() => tf.div(tf.tensor2d(bytes.subarray(spec.n * size, (spec.n + spec.dots) * size),
      [spec.dots, size], 'float32'), 255));
    draws = normals(spec.seeds.draws, spec.draws * 2);          // the build's N(0, I) draws
    reset(['ae', 'vae'], msg.beta);
    labels = bytes.slice((spec.n + spec.dots) * size);
    ({ colours, markColours } = msg);
    send({ type: 'ready', grid: GRID, span: SPAN, labels: labels.slice(),
           ae: view('ae'), vae: view('vae') }, msg.gen);
    // then the judge (the planes are drawn first): its readings of what was just sent
    threshold = msg.judge?.threshold ?? 0;
    try {
      if (!msg.judge) throw new Error('the page gave no judge');
      judge = await loadModel('judge', msg.judge.probe);
    } catch (error) {
      judgeError = error.message;
    }
    return { type: 'marks', ae: view('ae'), vae: view('vae') };
  } else if (msg.type === 'epoch') {
    const out = { type: 'epoch' };
    for (const name of ['ae', 'vae']) out[name] = view(name, models[name].trainEpoch(x));
    out.tensors = tf.memory().numTensors;
    return out;
  } else if (msg.type === 'reset') {
    reset(msg.models, msg.beta);
    const out = { type: 'reset' };
    for (const name of ['ae', 'vae']) out[name] = view(name);
    return out;
  }
  return null;
}

function send(out, gen) {
  postMessage({ ...out, gen }, buffers(out));
}

let queue = Promise.resolve();                 // one message at a time, in order
self.onmessage = event => {
  queue = queue.then(() => handle(event.data))
    .then(out => out && send(out, event.data.gen)).catch(error => postMessage({ type: 'error', message: error.message }));
};
