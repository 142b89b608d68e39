// Watch them learn: an AE and a VAE trained side by side in the reader's browser. The
// digits and the worker (js/train-worker.js, which holds TF.js and the models) load on
// the first press of Train or Step; each epoch redraws both latent planes (test codes as
// dots over the decoded grid), the loss curves against the build's (grey), and the status.
// Everything an epoch computes (the grid's decodes as pixels, the dots' codes, the judge's
// readings, and where the browser has OffscreenCanvas the plane drawn) comes from the worker;
// this thread only puts it on screen, one model per animation frame.
import { fetchFile, siteUrl } from './models.js';

const MODELS = [['ae', 'AE'], ['vae', 'VAE']];
const SVG = 'http://www.w3.org/2000/svg';
const fmt = v => (v == null ? '–' : v.toFixed(1));
// The name of the performance measures of this figure's work on the main thread (each message from
// the worker, each frame it draws in), for tests and profiles.
export const MEASURE = 'train:main';

/**
 * Draws a latent plane into a 2D context of the plane's size (the view's canvas, or the worker's
 * OffscreenCanvas): the decoded grid's pixels, the dots of the test codes (one path per class and
 * kind: a dot, or a ring at the edge for a code off the square) and, if given, the judge's marks in
 * the cells' corners. Returns how many codes lie off the square.
 * @param {CanvasRenderingContext2D|OffscreenCanvasRenderingContext2D} ctx
 * @param {{image: Uint8ClampedArray, codes: Float32Array, marks: Int8Array|null}} d
 * @param {{labels: Uint8Array, colours: string[], markColours: {sure: string, unsure: string}, span: number, grid: number}} how
 */
export function drawPlane(ctx, d, { labels, colours, markColours, span, grid }) {
  const w = ctx.canvas.width, h = ctx.canvas.height;
  ctx.putImageData(new ImageData(d.image, w, h), 0, 0);         // the worker made it the canvas's size
  ctx.globalAlpha = 0.85;
  const inside = colours.map(() => new Path2D()), rings = colours.map(() => new Path2D());
  let outside = 0;
  for (let k = 0; k < labels.length; k++) {                     // test codes, coloured by class
    const x = (d.codes[2 * k] + span) / (2 * span) * w, y = (span - d.codes[2 * k + 1]) / (2 * span) * h;
    const out = x < 0 || y < 0 || x > w || y > h;               // a code off the square: a ring at its edge
    const cx = Math.min(Math.max(x, 3), w - 3), cy = Math.min(Math.max(y, 3), h - 3), path = (out ? rings : inside)[labels[k]];
    outside += out;
    path.moveTo(cx + 2.5, cy);
    path.arc(cx, cy, 2.5, 0, 2 * Math.PI);
  }
  colours.forEach((c, k) => {
    ctx.fillStyle = ctx.strokeStyle = c;
    ctx.fill(inside[k]);
    ctx.stroke(rings[k]);
  });
  ctx.globalAlpha = 1;
  if (d.marks) {                                                // the judge's reading: digit, or '?'
    const size = w / grid;
    ctx.font = '9px sans-serif';
    for (const ok of [true, false]) {
      ctx.fillStyle = ok ? markColours.sure : markColours.unsure;
      d.marks.forEach((label, k) => {
        if ((label >= 0) === ok) ctx.fillText(ok ? label : '?', (k % grid) * size + 2, Math.floor(k / grid) * size + 9);
      });
    }
  }
  return outside;
}

export function createTrain(root, app) {
  const spec = app.data.train, colours = app.data.palette.digits, markColours = app.data.palette.judge;
  root.classList.add('train');
  root.innerHTML = `
    <div class="train-controls">
      <button type="button" class="train-run">Train</button>
      <button type="button" class="train-step">Step</button>
      <button type="button" class="train-reset">Reset</button>
      <label>β <select class="train-beta">${spec.betas.map(b =>
        `<option value="${b}"${b === spec.beta ? ' selected' : ''}>${b}</option>`).join('')}</select></label>
      <p class="train-status" role="status">epoch 0 · press Train or Step to start</p>
    </div>
    <div class="train-panels">${MODELS.map(([m, label]) => `
      <div class="train-panel" data-model="${m}">
        <h3>${label}</h3>
        <canvas width="336" height="336" aria-label="The ${label}'s latent plane: test codes over decoded digits"></canvas>
        <p class="train-outside"></p>
        <p class="train-share"></p>
        <svg class="train-curve" viewBox="0 0 336 120" role="img" aria-label="The ${label}'s loss per epoch"></svg>
      </div>`).join('')}
    </div>`;
  const $ = s => root.querySelector(s);
  const run = $('.train-run'), status = $('.train-status'), betaSelect = $('.train-beta');
  let worker = null, starting = null, running = false, busy = false, gen = 0, labels = null, grid = 12, span = 3;
  let history = { ae: [], vae: [] }, last = {}, frame = 0;
  const pending = new Map();                                    // model -> its newest data, not yet drawn

  // until the first press, each plane shows where the build's run of its model ended (a still)
  for (const [m, label] of MODELS) {
    const still = new Image();
    still.onload = () => {
      if (starting) return;                                     // the reader's run has begun: it owns the plane
      const canvas = $(`[data-model="${m}"] canvas`);
      canvas.getContext('2d').drawImage(still, 0, 0, canvas.width, canvas.height);
      $(`[data-model="${m}"] .train-outside`).textContent =
        `The ${label} where the build's run ended, after ${spec.epochs} epochs; yours starts from the same weights.`;
    };
    still.src = siteUrl(spec.stills[m]);
  }

  function start() {
    starting ??= fetchFile(spec.file).then(bytes => new Promise((resolve, reject) => {
      worker = new Worker(siteUrl('js/train-worker.js'), { type: 'module' });
      worker.onmessage = ({ data }) => {
        const t = performance.now();
        if (data.type === 'error') return fail(data.message);
        if (data.type === 'ready') {
          ({ labels, grid, span } = data);
          resolve();
        }
        if (data.gen === gen) receive(data);
        if (data.type !== 'ready' && data.type !== 'marks' && data.gen === gen) root.dataset.busy = busy = false;
        if (running && !busy) epoch();
        performance.measure(MEASURE, { start: t, detail: `message ${data.type}` });
      };
      worker.onerror = event => { reject(new Error(event.message || 'the training worker failed to start')); };
      status.textContent = 'loading the digits and TF.js…';
      const files = app.data.files && Object.fromEntries(Object.entries(app.data.files)
        .filter(([path]) => path.startsWith('models/judge/')));
      worker.postMessage({ type: 'start', spec, bytes, beta: Number(betaSelect.value), gen, colours, markColours,
        judge: { probe: app.data.probes.judge, threshold: app.data.judge.threshold, files } }, [bytes]);
    })).catch(error => { fail(error.message); starting = null; throw error; });   // a later press tries again
    return starting;
  }

  function fail(message) {
    running = false;
    run.textContent = 'Train';
    status.textContent = `The training stopped: ${message}`;
    root.dataset.error = 'true';
  }

  function epoch() {
    root.dataset.busy = busy = true;
    worker.postMessage({ type: 'epoch', gen });
  }

  /** A message from the worker: its numbers into the history and the status now, its planes and
   * curves drawn in the next animation frames. */
  function receive(data) {
    for (const [m] of MODELS) {
      const d = data[m];
      if (!d) continue;
      if (data.type === 'marks') {                              // the judge's readings of what is drawn
        const now = pending.get(m) ?? last[m];
        if (!now || now.epoch !== d.epoch || now.beta !== d.beta) continue;
        const { image, drawn, outside, marks, share, judgeError } = d;
        Object.assign(now, { image, drawn, outside, marks, share, judgeError });
        pending.set(m, now);
        continue;
      }
      if (d.epoch === 0) history[m] = [];
      else if (d.recon != null) history[m].push({ epoch: d.epoch, recon: d.recon, kl: d.kl });
      last[m] = d;
      pending.set(m, d);
    }
    if (data.type !== 'marks') {
      root.dataset.tensors = data.tensors ?? '';
      const h = history, a = h.ae.at(-1), v = h.vae.at(-1);
      const vEpoch = last.vae.epoch !== last.ae.epoch ? ` (epoch ${last.vae.epoch})` : '';
      status.textContent = `epoch ${last.ae.epoch} · AE ${fmt(a?.recon)} · VAE${vEpoch} ${fmt(v?.recon)}` +
        (v ? ` (KL ${fmt(v.kl)})` : '');
      root.dataset.epoch = last.ae.epoch;
    }
    if (!frame && pending.size) frame = requestAnimationFrame(paint);
  }

  /** Draws one model that waits to be drawn per animation frame (each a few ms at most). */
  function paint() {
    const t = performance.now(), [m, d] = pending.entries().next().value;
    pending.delete(m);
    draw(m, d);
    frame = pending.size ? requestAnimationFrame(paint) : 0;
    performance.measure(MEASURE, { start: t, detail: `draw ${m}` });
  }

  /** One model's plane (as the worker drew it, else drawn here), its lines and its curve. */
  function draw(m, d) {
    const canvas = $(`[data-model="${m}"] canvas`), ctx = canvas.getContext('2d');
    let outside = d.outside;
    if (d.drawn) ctx.putImageData(new ImageData(d.image, canvas.width, canvas.height), 0, 0);
    else outside = drawPlane(ctx, d, { labels, colours, markColours, span, grid });   // a worker without OffscreenCanvas
    $(`[data-model="${m}"] .train-outside`).textContent = outside
      ? `${outside} of ${labels.length} test codes lie outside the square (rings at its edge).` : '';
    curve(m, d.beta);
    const el = $(`[data-model="${m}"] .train-share`);
    if (d.judgeError) {
      el.textContent = `The judge is not available: ${d.judgeError}`;
    } else if (d.share != null) {                               // null: the judge is still loading
      const ref = spec.reference[m === 'ae' ? 'ae' : `vae-${d.beta}`].recognisable;
      el.textContent = `Codes drawn from N(0, I) the judge recognises: ${Math.round(100 * d.share)}\u202f%` +
        (!d.epoch ? ' (before training: what it misreads in the untrained decoder\'s grey noise)'
          : ref[d.epoch - 1] != null ? ` (the build's run after this epoch: ${Math.round(100 * ref[d.epoch - 1])}\u202f%)` : '');
      el.dataset.value = d.share;
    }
  }

  function curve(m, beta) {
    const svg = $(`[data-model="${m}"] svg`), ref = spec.reference[m === 'ae' ? 'ae' : `vae-${beta}`];
    const mine = history[m], n = Math.max(spec.epochs, mine.length);
    const all = [...ref.recon, ...mine.map(e => e.recon)], top = Math.max(...all), bottom = Math.min(...all);
    const x = e => 30 + (e - 1) / Math.max(1, n - 1) * 300, y = v => 10 + (top - v) / Math.max(1e-6, top - bottom) * 95;
    const line = (values, cls, to = y) => `<polyline class="${cls}" points="${values.map((v, i) => `${x(i + 1)},${to(v)}`).join(' ')}"/>`;
    let kl = '';
    if (m === 'vae') {                                          // the KL, dashed, on its own scale (right)
      const klTop = Math.max(1e-6, ...ref.kl, ...mine.map(e => e.kl)), yk = v => 10 + (1 - v / klTop) * 95;
      kl = `${line(ref.kl, 'train-reference train-kl', yk)}${line(mine.map(e => e.kl), 'train-mine train-kl', yk)}
        <text x="334" y="14" text-anchor="end">KL ${klTop.toFixed(1)}</text>`;
    }
    svg.innerHTML = `${line(ref.recon, 'train-reference')}${line(mine.map(e => e.recon), 'train-mine')}${kl}
      <text x="2" y="${y(top) + 4}">${top.toFixed(0)}</text><text x="2" y="${y(bottom) + 4}">${bottom.toFixed(0)}</text>
      <text x="330" y="118" text-anchor="end">epoch ${n}</text>`;
    const klText = e => (m === 'vae' && e ? ` (KL ${fmt(e)})` : '');
    svg.setAttribute('aria-label', `The ${m.toUpperCase()}'s reconstruction loss per epoch` +
      (m === 'vae' ? ' and, dashed, its KL' : '') + ': ' +
      (mine.length ? `${fmt(mine.at(-1).recon)} nats${klText(mine.at(-1).kl)} after epoch ${mine.length}` : 'not trained yet') +
      `; the build's run ended at ${fmt(ref.recon.at(-1))}${klText(ref.kl.at(-1))}`);
  }

  run.addEventListener('click', async () => {
    running = !running;
    run.textContent = running ? 'Pause' : 'Train';
    // an epoch under way runs to its end (the build's curves are per epoch): say so, so that its
    // arrival after Pause does not look like a Pause that failed
    if (!running && busy && worker) status.textContent = `finishing epoch ${(last.ae?.epoch ?? 0) + 1} before pausing…`;
    if (running) {
      if (!await start().then(() => true, () => false)) return;   // fail() has said why
      if (running && !busy) epoch();
    }
  });
  $('.train-step').addEventListener('click', async () => {
    if (!await start().then(() => true, () => false)) return;
    if (!busy && !running) epoch();
  });
  function reset(models) {
    if (!worker) return;
    gen += 1;
    root.dataset.busy = busy = true;
    worker.postMessage({ type: 'reset', models, beta: Number(betaSelect.value), gen });
  }
  $('.train-reset').addEventListener('click', () => {
    if (running) run.click();                                   // Reset also stops
    reset(['ae', 'vae']);
  });
  betaSelect.addEventListener('change', () => reset(['vae']));
  new IntersectionObserver(entries => {                          // pause when the figure leaves the screen
    if (running && !entries.at(-1).isIntersecting) run.click();
  }).observe(root);
}

export default createTrain;   // the figure's view: started by main.js in its data-view element
