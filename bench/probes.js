// Snippets bench/bench.py runs in the page (each section is one Playwright script).

// ---- READY: init script; performance.now() (ms from navigation start) when each figure is ready
(() => {
  const marks = window.__bench = {};
  const check = () => [['pair', '#pair'], ['explorer', '#explorer'], ['map', '#map']].forEach(([k, sel]) => {
    const el = document.querySelector(sel);
    if (!(k in marks) && el && el.dataset.ready === 'true') marks[k] = performance.now();
  });
  new MutationObserver(check)
    .observe(document, { subtree: true, attributes: true, attributeFilter: ['data-ready'] });
})();

// ---- TIME: median over `batches` of the mean ms per batch-1 decode (VAE decoder), after warm-up.
// own: load the decoder with whatever backend tf picks; else take the page's loaded models.
async ({ n, batches, own }) => {
  const m = await import(new URL('js/models.js', document.baseURI).href);
  let dec;
  if (own) {
    await tf.ready();
    dec = await tf.loadLayersModel(new URL('models/vae-decoder/model.json', document.baseURI).href);
  } else {
    dec = await window.latentExplorer.nets.get('vae-decoder');
  }
  const z = [0.3, -0.5, 0.2, 0.8], per = [];
  for (let i = 0; i < 30; i++) m.decode(dec, [z[0] + 0.01 * i, z[1], z[2], z[3]]);
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) m.decode(dec, [z[0], z[1] + 0.001 * i, z[2], z[3]]);
    per.push((performance.now() - t0) / n);
  }
  per.sort((a, b) => a - b);
  const backend = tf.getBackend(), flag = name => tf.env().getAsync(name).catch(() => null);
  const simd = backend === 'wasm' ? await flag('WASM_HAS_SIMD_SUPPORT') : null;
  const threads = backend === 'wasm' ? await flag('WASM_HAS_MULTITHREAD_SUPPORT') : null;
  return { backend, ms: per[batches >> 1], simd, threads };
}

// ---- RAF_START: record requestAnimationFrame intervals until window.__rafOn is false
() => {
  const t = window.__frames = [];
  let last = null;
  window.__rafOn = true;
  const f = ts => {
    if (last !== null) t.push(ts - last);
    last = ts;
    if (window.__rafOn) requestAnimationFrame(f);
  };
  requestAnimationFrame(f);
}

// ---- RAF_STOP
() => { window.__rafOn = false; return window.__frames; }

// ---- TRAIN_WATCH: in the training figure, performance.now() of the press of Train, of the first
// drawing of its planes (the status turns to "epoch 0 · AE ..."), and of each epoch shown, with the
// worker's tf.memory().numTensors after it
() => {
  const root = document.querySelector('#train'), status = root.querySelector('[role=status]');
  const w = window.__train = { click: null, first: null, epochs: [] };
  root.querySelector('.train-run').addEventListener('click', () => { w.click ??= performance.now(); }, { capture: true });
  new MutationObserver(() => {
    const t = performance.now(), e = Number(root.dataset.epoch);
    if (w.click !== null && w.first === null && /^epoch \d+ · AE/.test(status.textContent)) w.first = t;
    if (e > (w.epochs.length ? w.epochs[w.epochs.length - 1].epoch : 0)) {
      w.epochs.push({ epoch: e, t, tensors: Number(root.dataset.tensors) });
    }
  }).observe(root, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['data-epoch'] });
}
