// The training of the "watch them learn" figure, off the page's main thread: a module
// worker with its own TF.js (whole, for its gradients, and the wasm backend, from lib/), holding the
// digits and both models. Messages in: {type: 'start', spec, bytes} (the build's data.train
// and the bytes of its digits file), {type: 'epoch'} (one epoch of both models), {type:
// 'reset', models: ['ae', 'vae'], beta}. Out: {type: 'ready' | 'epoch' | 'reset'} with each model's
// epoch, losses, dot codes, decoded grid and decoded N(0, I) draws, or {type: 'error', message}; each answer
// carries the `gen` of the message it answers.
import { createModel, normals } from './trainer.js';

const version = new URL(import.meta.url).searchParams.get('v');
const lib = name => new URL(`../lib/${name}${version ? `?v=${version}` : ''}`, import.meta.url).href;
const GRID = 12, SPAN = 3;                      // decoded cells per side, over [-SPAN, SPAN]^2
const grid = Float32Array.from({ length: GRID * GRID * 2 }, (_, k) => {
  const cell = k >> 1, step = 2 * SPAN / GRID;
  return k % 2 ? SPAN - (Math.floor(cell / GRID) + 0.5) * step : -SPAN + (cell % GRID + 0.5) * step;   // rows top down
});
const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
let spec, x, dots, draws, models = {};

/** TF.js on WebAssembly (single-threaded, as on the page), else on plain JavaScript. */
async function backend() {
  for (const name of ['tf.min.js', 'tf-backend-wasm.min.js']) await import(lib(name));
  try {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    tf.wasm.setWasmPaths(Object.fromEntries(WASM_FILES.map(f => [f, lib(f)])));
    if (await tf.setBackend('wasm')) return;
  } catch (error) {
    console.warn(`TF.js in the training worker: WebAssembly unavailable (${error.message}); using the cpu backend`);
  }
  await tf.setBackend('cpu');
}

function reset(names, beta) {
  for (const name of names) {
    models[name]?.dispose();
    models[name] = createModel(spec, name === 'vae', name === 'vae' ? beta : 0);
  }
}

function view(name, result) {
  const m = models[name];
  return { epoch: m.epoch, beta: m.beta, recon: result?.recon ?? null, kl: result?.kl ?? null,
           codes: m.encode(dots), grid: m.decode(grid), draws: m.decode(draws) };
}

async function handle(msg) {
  if (msg.type === 'start') {
    await backend();
    spec = msg.spec;
    const bytes = new Uint8Array(msg.bytes), size = 784;
    x = tf.tidy(() => tf.div(tf.tensor2d(bytes.subarray(0, spec.n * size), [spec.n, size], 'float32'), 255));
    dots = tf.tidy(() => tf.div(tf.tensor2d(bytes.subarray(spec.n * size, (spec.n + spec.dots) * size),
      [spec.dots, size], 'float32'), 255));
    draws = normals(spec.seeds.draws, spec.draws * 2);          // the build's N(0, I) draws
    reset(['ae', 'vae'], msg.beta);
    return { type: 'ready', grid: GRID, span: SPAN, labels: bytes.slice((spec.n + spec.dots) * size),
             ae: view('ae'), vae: view('vae') };
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

let queue = Promise.resolve();                 // one message at a time, in order
self.onmessage = event => {
  queue = queue.then(() => handle(event.data))
    .then(out => out && postMessage({ ...out, gen: event.data.gen })).catch(error => postMessage({ type: 'error', message: error.message }));
};
