// Interpolation: with two inputs selected, a slider walks the black line along the straight
// line from the older input's code to the newer one's, and a strip shows the decodes
// along the way for both models (the VAE of the beta chosen, and the AE), each in its own
// latent space. The slider shows where the line is: its position on the walk, or, once the
// line has left the walk, the walk's point nearest to it; Home, End and a click always act.
import { decode } from './models.js';
import { paint } from './digits.js';

const STEPS = 9;                                  // decodes per model in the strip

/**
 * @param {HTMLElement} root
 * @param {{state, data, nets}} app
 */
export function createInterpolation(root, app) {
  const { state, data, nets } = app;
  root.innerHTML = `
    <label class="ex-interp-label"><span class="ex-interp-ends"></span>
      <input type="range" class="ex-interp-slider" min="0" max="1" step="0.01" value="0" aria-label="Interpolation"></label>
    <div class="ex-strip" role="img"></div>
    <p class="ex-strip-message" role="status"></p>`;
  const slider = root.querySelector('input'), strip = root.querySelector('.ex-strip');
  const rows = data.model_order.map(() => {
    const row = strip.appendChild(document.createElement('div'));
    row.className = 'ex-strip-row';
    const name = row.appendChild(document.createElement('span'));
    name.className = 'ex-strip-label';
    const cells = Array.from({ length: STEPS }, () => {
      const c = row.appendChild(document.createElement('canvas'));
      c.width = c.height = data.image_size;
      return c;
    });
    return { name, cells, m: null };
  });
  let drawn = null, wanted = null;               // the strip drawn, and the one being drawn

  /** The strip's models: model_order with its VAE replaced by the VAE of the beta chosen. */
  const models = () => data.model_order.map(m => (data.models[m].variational ? state.vae : m));

  /** Where the line is along the walk: t, else the nearest point of the walk (0..1). */
  function position(pair) {
    if (state.t !== null) return state.t;
    const [a, b] = pair.map(d => d.codes[state.model]);
    if (!a || !b) return 0;
    const ab = b.map((v, i) => v - a[i]), norm = ab.reduce((s, v) => s + v * v, 0);
    if (!norm) return 0;
    const along = state.z.reduce((s, v, i) => s + (v - a[i]) * ab[i], 0) / norm;
    return Math.min(1, Math.max(0, along));
  }

  function render() {
    const pair = state.pair();
    root.hidden = !pair;
    if (!pair) return;
    slider.value = position(pair);
    const shown = models();
    const key = JSON.stringify([shown, pair.map(d => [d.id, shown.map(m => d.codes[m])])]);
    if (key === drawn || key === wanted) return mark();
    wanted = key;
    const labels = shown.map(m => data.models[m].label);
    root.querySelector('.ex-interp-ends').textContent = `Interpolation: ${pair[0].name} → ${pair[1].name}`;
    strip.setAttribute('aria-label', `Decodes along the straight line from ${pair[0].name} to ${pair[1].name}, ` +
      `for ${labels.join(' and ')}`);
    rows.forEach((row, r) => { row.m = shown[r]; row.name.textContent = labels[r]; });
    mark();
    const message = root.querySelector('.ex-strip-message');
    if (!shown.every(m => nets.now(`${m}-decoder`))) {
      message.textContent = 'Loading the decoders…';
      strip.dataset.loading = 'true';
      strip.dataset.error = 'false';              // trying again: the message says so, not the last failure
    }
    Promise.allSettled(shown.map(m => nets.get(`${m}-decoder`))).then(results => {
      if (key !== wanted) return;                 // something newer is being drawn
      const failed = [];
      rows.forEach(({ m, cells }, r) => {
        if (results[r].status === 'rejected') {
          cells.forEach(c => c.getContext('2d').clearRect(0, 0, c.width, c.height));
          failed.push(`${results[r].reason.message} Its row of the strip cannot be drawn.`);
          return;
        }
        const [a, b] = pair.map(d => d.codes[m]);
        const codes = cells.map((_, k) => a.map((v, i) => v + (k / (STEPS - 1)) * (b[i] - v)));
        const pixels = decode(results[r].value, codes), n = data.image_size ** 2;
        cells.forEach((c, k) => paint(c, pixels.subarray(k * n, (k + 1) * n)));
      });
      message.textContent = failed.join(' ');
      strip.dataset.loading = 'false';
      strip.dataset.error = String(failed.length > 0);
      drawn = failed.length ? null : key;          // a failed row is tried again on the next change
      wanted = null;
    });
  }
  function mark() {                               // the cell nearest the black line
    const k = state.t === null ? -1 : Math.round(state.t * (STEPS - 1));
    for (const { m, cells } of rows) {
      cells.forEach((c, j) => c.classList.toggle('ex-here', j === k && m === state.model));
    }
  }

  slider.addEventListener('input', () => state.setInterp(+slider.value));
  slider.addEventListener('click', () => state.setInterp(+slider.value));   // also where it already was
  slider.addEventListener('keydown', event => {   // also when the slider already shows that end
    const end = { Home: 0, End: 1 }[event.key];
    if (end === undefined) return;
    event.preventDefault();
    state.setInterp(end);
  });
  for (const kind of ['inputs', 'interp', 'model', 'latent']) state.on(`${kind}.interp`, render);
  render();
}
