// Interpolation: with two inputs selected, a slider walks the black line along the straight
// line from the older input's code to the newer one's, and a strip shows the decodes
// along the way for both models, each in its own latent space.
import { decode } from './models.js';
import { paint } from './digits.js';

const STEPS = 9;                                  // decodes per model in the strip

/**
 * @param {HTMLElement} root
 * @param {{state, data, nets}} app
 */
export function createInterpolation(root, app) {
  const { state, data, nets } = app;
  const models = data.model_order;
  root.innerHTML = `
    <label class="ex-interp-label"><span class="ex-interp-ends"></span>
      <input type="range" class="ex-interp-slider" min="0" max="1" step="0.01" value="0" aria-label="Interpolation"></label>
    <div class="ex-strip" role="img"></div>
    <p class="ex-strip-message" role="status"></p>`;
  const slider = root.querySelector('input'), strip = root.querySelector('.ex-strip');
  const rows = models.map(m => {
    const row = document.createElement('div');
    row.className = 'ex-strip-row';
    row.innerHTML = `<span class="ex-strip-label">${data.models[m].label}</span>`;
    const cells = Array.from({ length: STEPS }, () => {
      const c = row.appendChild(document.createElement('canvas'));
      c.width = c.height = data.image_size;
      return c;
    });
    strip.appendChild(row);
    return { m, cells };
  });
  let drawn = null;
  const keyOf = pair => pair && pair.map(d => d.id).join('|') + JSON.stringify(pair.map(d => d.codes));

  function render() {
    const pair = state.pair();
    root.hidden = !pair;
    if (!pair) return;
    root.querySelector('.ex-interp-ends').textContent = `Interpolation: ${pair[0].name} → ${pair[1].name}`;
    strip.setAttribute('aria-label', `Decodes along the straight line from ${pair[0].name} to ${pair[1].name}, ` +
      `for ${models.map(m => data.models[m].label).join(' and ')}`);
    if (state.t !== null) slider.value = state.t;
    const key = keyOf(pair);
    if (key === drawn) return mark();
    const message = root.querySelector('.ex-strip-message');
    if (!models.every(m => nets.now(`${m}-decoder`))) {
      message.textContent = 'Loading the decoders…';
      strip.dataset.loading = 'true';
    }
    Promise.allSettled(models.map(m => nets.get(`${m}-decoder`))).then(results => {
      if (key !== keyOf(state.pair())) return;    // another pair since
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
      drawn = key;                                 // a failed row is tried again for another pair
      mark();
    });
  }
  function mark() {                               // the cell nearest the black line
    const k = state.t === null ? -1 : Math.round(state.t * (STEPS - 1));
    for (const { m, cells } of rows) {
      cells.forEach((c, j) => c.classList.toggle('ex-here', j === k && m === state.model));
    }
  }

  slider.addEventListener('input', () => state.setInterp(+slider.value));
  state.on('inputs.interp', render).on('interp.interp', render).on('model.interp', mark);
  render();
}
