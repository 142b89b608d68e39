// Watch them learn: an AE and a VAE trained side by side in the reader's browser. The
// digits and the worker (js/train-worker.js, which holds TF.js and the models) load on
// the first press of Train or Step; each epoch redraws both latent planes (test codes as
// dots over the decoded grid), the loss curves against the build's (grey), and the status.
import { fetchFile, siteUrl } from './models.js';

const MODELS = [['ae', 'AE'], ['vae', 'VAE']];
const SVG = 'http://www.w3.org/2000/svg';
const fmt = v => (v == null ? '–' : v.toFixed(1));

export function createTrain(root, app) {
  const spec = app.data.train, colours = app.data.palette.digits;
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
  let history = { ae: [], vae: [] }, last = {};

  function start() {
    starting ??= fetchFile(spec.file).then(bytes => new Promise((resolve, reject) => {
      worker = new Worker(siteUrl('js/train-worker.js'), { type: 'module' });
      worker.onmessage = ({ data }) => {
        if (data.type === 'error') return fail(data.message);
        if (data.type === 'ready') {
          ({ labels, grid, span } = data);
          resolve();
        }
        if (data.gen === gen) show(data);
        if (data.type !== 'ready' && data.gen === gen) root.dataset.busy = busy = false;
        if (running && !busy) epoch();
      };
      worker.onerror = event => { reject(new Error(event.message || 'the training worker failed to start')); };
      status.textContent = 'loading the digits and TF.js…';
      worker.postMessage({ type: 'start', spec, bytes, beta: Number(betaSelect.value), gen }, [bytes]);
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

  function show(data) {
    for (const [m] of MODELS) {
      const d = data[m];
      if (!d) continue;
      if (d.epoch === 0) history[m] = [];
      else if (d.recon != null) history[m].push({ epoch: d.epoch, recon: d.recon, kl: d.kl });
      last[m] = d;
      draw(m, d);
    }
    root.dataset.tensors = data.tensors ?? '';
    const h = history, a = h.ae.at(-1), v = h.vae.at(-1);
    const vEpoch = last.vae.epoch !== last.ae.epoch ? ` (epoch ${last.vae.epoch})` : '';
    status.textContent = `epoch ${last.ae.epoch} · AE ${fmt(a?.recon)} · VAE${vEpoch} ${fmt(v?.recon)}` +
      (v ? ` (KL ${fmt(v.kl)})` : '');
    root.dataset.epoch = last.ae.epoch;
  }

  function draw(m, d) {
    const canvas = $(`[data-model="${m}"] canvas`), ctx = canvas.getContext('2d');
    const img = ctx.createImageData(canvas.width, canvas.height), px = img.data;
    for (let k = 0; k < grid * grid; k++) {                         // decoded cells, black ink on white
      const ox = (k % grid) * 28, oy = Math.floor(k / grid) * 28;
      for (let p = 0; p < 784; p++) {
        const v = 255 - Math.round(255 * d.grid[k * 784 + p]), at = 4 * ((oy + Math.floor(p / 28)) * canvas.width + ox + p % 28);
        px[at] = px[at + 1] = px[at + 2] = v;
        px[at + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
    ctx.globalAlpha = 0.85;
    let outside = 0;
    for (let k = 0; k < labels.length; k++) {                     // test codes, coloured by class
      const x = (d.codes[2 * k] + span) / (2 * span) * canvas.width, y = (span - d.codes[2 * k + 1]) / (2 * span) * canvas.height;
      const out = x < 0 || y < 0 || x > canvas.width || y > canvas.height;
      outside += out;
      ctx.beginPath();                                            // a code off the square: a ring at its edge
      ctx.arc(Math.min(Math.max(x, 3), canvas.width - 3), Math.min(Math.max(y, 3), canvas.height - 3), 2.5, 0, 2 * Math.PI);
      if (out) {
        ctx.strokeStyle = colours[labels[k]];
        ctx.stroke();
      } else {
        ctx.fillStyle = colours[labels[k]];
        ctx.fill();
      }
    }
    $(`[data-model="${m}"] .train-outside`).textContent = outside
      ? `${outside} of ${labels.length} test codes lie outside the square (rings at its edge).` : '';
    ctx.globalAlpha = 1;
    curve(m, d.beta);
    marks(m, d);
  }

  /** The judge's reading of the grid's cells (in their corners) and its share of the draws. */
  async function marks(m, d) {
    let read;
    try {
      const net = await app.nets.get('judge');
      read = { grid: judged(net, d.grid), draws: judged(net, d.draws) };
    } catch (error) {
      $(`[data-model="${m}"] .train-share`).textContent = `The judge is not available: ${error.message}`;
      return;
    }
    if (last[m] !== d) return;                                  // a newer epoch is on its way
    const canvas = $(`[data-model="${m}"] canvas`), ctx = canvas.getContext('2d'), size = canvas.width / grid;
    ctx.font = '9px sans-serif';
    read.grid.forEach(([label, ok], k) => {
      ctx.fillStyle = ok ? '#1565c0' : '#999';
      ctx.fillText(ok ? label : '?', (k % grid) * size + 2, Math.floor(k / grid) * size + 9);
    });
    const ref = spec.reference[m === 'ae' ? 'ae' : `vae-${d.beta}`].recognisable;
    const share = read.draws.filter(([, ok]) => ok).length / read.draws.length;
    const el = $(`[data-model="${m}"] .train-share`);
    el.textContent = `Codes drawn from N(0, I) the judge recognises: ${Math.round(100 * share)} %` +
      (d.epoch && ref[d.epoch - 1] != null ? ` (the build's run after this epoch: ${Math.round(100 * ref[d.epoch - 1])} %)` : '');
    el.dataset.value = share;
  }

  /** [label, recognisable] for each 28x28 image of a flat array (judged padded to 32x32). */
  function judged(net, images) {
    return tf.tidy(() => {
      const n = images.length / 784;
      const p = net.predict(tf.pad(tf.tensor4d(images, [n, 28, 28, 1]), [[0, 0], [2, 2], [2, 2], [0, 0]]));
      const top = tf.max(p, 1).dataSync(), label = tf.argMax(p, 1).dataSync();
      return Array.from(label, (l, k) => [l, top[k] >= app.data.judge.threshold]);
    });
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
