// The opening figure: one code, two decoders. The reader sets the four values of a code (or
// rolls them from N(0, I), the VAE's prior) and sees what the VAE's and the AE's decoders make
// of the very same numbers, with the judge's reading; "Roll 100" rolls a hundred codes and
// keeps a tally per model of those the judge recognises. Codes are clipped to each model's
// axis ranges, as the build's own dice are.
import { classify, decode } from './models.js';
import { aDigit, gauss, paint } from './digits.js';

/**
 * Brings the figure's markup (figure.j2: the sliders, buttons and canvases are in the page
 * from the start, so that nothing moves when this runs) to life inside `root`.
 * @param {HTMLElement} root
 * @param {{data, nets}} app the page's data and its lazily loaded models
 */
export default function createPair(root, app) {
  const { data, nets } = app;
  const DIM = data.latent_dim, SIZE = data.image_size, threshold = data.judge.threshold;
  const models = data.model_order.map(name => ({ name, label: data.models[name].label }));
  const BATCH = Number(root.dataset.batch);     // codes per roll of many, set by the markup
  const inputs = [...root.querySelectorAll('input[type=range]')];
  const outputs = [...root.querySelectorAll(".pair-number")];
  const tally = Object.fromEntries(models.map(m => [m.name, { ok: 0, n: 0 }]));
  for (const canvas of root.querySelectorAll('canvas')) canvas.width = canvas.height = SIZE;
  const clip = (name, z) => z.map((v, i) => Math.min(Math.max(v, data.models[name].axes[i].range[0]),
    data.models[name].axes[i].range[1]));
  const code = () => inputs.map(input => Number(input.value));
  const reading = probs => {
    const top = probs.indexOf(Math.max(...probs));
    return { digit: top, sure: probs[top], ok: probs[top] >= threshold };
  };
  let pending = 0;

  async function draw() {
    const z = code(), ticket = ++pending;
    outputs.forEach((o, i) => { o.textContent = z[i].toFixed(2); });
    const judged = nets.get('judge');                      // the decodes do not wait for the judge
    judged.catch(() => {});                                 // its failure is reported below, or not at all if a decoder failed first
    const decoders = await Promise.all(models.map(m => nets.get(`${m.name}-decoder`)));
    if (ticket !== pending) return;                         // a newer code is on its way
    const images = models.map((m, k) => {
      const pixels = decode(decoders[k], clip(m.name, z));
      paint(root.querySelector(`[data-model="${m.name}"] canvas`), pixels);
      return pixels.slice();                                // kept for the judge, whatever the backend reuses
    });
    root.dataset.ready = 'true';                            // both decoded images are on screen
    const judge = await judged;
    if (ticket !== pending) return;
    models.forEach((m, k) => {
      const r = reading(classify(judge, images[k]));
      root.querySelector(`[data-model="${m.name}"] .pair-reading`).textContent = r.ok
        ? `the judge reads ${aDigit(r.digit)} (${(100 * r.sure).toFixed(0)}\u202f% sure)`
        : `no digit the judge is sure of (at most ${(100 * r.sure).toFixed(0)}\u202f%)`;
    });
  }

  function say() {
    root.querySelector('.pair-tally').textContent = tally[models[0].name].n
      ? `Recognisable so far: ${models.map(m => `${m.label} ${tally[m.name].ok} of ${tally[m.name].n}`).join(', ')}.`
      : '';
  }

  function roll() {
    inputs.forEach(input => { input.value = Math.min(input.max, Math.max(input.min, gauss())).toFixed(2); });
    return draw();
  }

  async function rollMany() {
    const codes = Array.from({ length: BATCH }, () => Array.from({ length: DIM }, () => gauss()));
    const [judge, ...decoders] = await Promise.all([nets.get('judge'), ...models.map(m => nets.get(`${m.name}-decoder`))]);
    models.forEach((m, k) => {
      const pixels = decode(decoders[k], codes.map(z => clip(m.name, z)));
      for (let j = 0; j < BATCH; j++) {
        const r = reading(classify(judge, pixels.subarray(j * SIZE * SIZE, (j + 1) * SIZE * SIZE)));
        tally[m.name].ok += r.ok;
        tally[m.name].n += 1;
      }
    });
    say();
  }

  const failed = error => {
    console.error(error);
    root.querySelector('.pair-tally').textContent = `The models could not run here (${error.message}).`;
  };
  inputs.forEach(input => input.addEventListener('input', () => draw().catch(failed)));
  root.querySelector('.pair-roll').addEventListener('click', () => roll().catch(failed));
  root.querySelector('.pair-roll-many').addEventListener('click', () => rollMany().catch(failed));
  draw().catch(failed);
}
