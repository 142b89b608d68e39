// Input | AE | VAE: the most recently selected input beside both models' reconstructions
// (each decoded from the input's code, the VAE's mean), with their cross-entropies; and
// samples of the VAE's q(z|x) for that input, which show how narrow its noise is.
import { decode } from './models.js';
import { crossEntropy, gauss, paint } from './digits.js';

const SAMPLES = 8;

/**
 * @param {HTMLElement} root
 * @param {{state, data, nets}} app
 */
export function createRecon(root, app) {
  const { state, data, nets } = app;
  const models = [...data.model_order].reverse();             // AE, then VAE, as the title says
  const label = m => data.models[m].label;
  const variational = data.model_order.find(m => data.models[m].variational);   // whose q(z|x) to sample
  root.classList.add('recon');
  root.innerHTML = `
    <div class="recon-row">
      <figure><canvas aria-label="Input"></canvas><figcaption class="recon-name">Input</figcaption></figure>
      ${models.map(m => `<figure data-model="${m}"><canvas aria-label="${label(m)} reconstruction"></canvas>
        <figcaption>${label(m)}: <span class="recon-nats"></span></figcaption></figure>`).join('')}
    </div>
    <div class="recon-q">
      <button type="button" class="recon-sample">Draw samples of q(z|x)</button>
      <span class="recon-sigma"></span>
      <div class="recon-samples" role="img" aria-label="Decodes of codes drawn from the ${label(variational)}'s q(z|x)"></div>
    </div>
    <p class="recon-empty">Select an input in the explorer above to see it here.</p>
    <p class="recon-message" role="status"></p>`;
  const canvases = [...root.querySelectorAll('canvas')];
  canvases.forEach(c => { c.width = c.height = data.image_size; });
  const samples = root.querySelector('.recon-samples');
  let shown = null;
  const problems = new Map();                     // model (or 'samples') -> message

  function tell(key, text) {
    if (text) problems.set(key, text);
    else problems.delete(key);
    root.querySelector('.recon-message').textContent = [...problems.values()].join(' ');
    root.dataset.error = String(problems.size > 0);
  }

  function render() {
    const d = state.current();
    root.dataset.empty = String(!d);
    if (!d) return;
    shown = d;
    root.querySelector('.recon-name').textContent = `Input: ${d.name}`;
    paint(canvases[0], d.pixels, 255);
    models.forEach((m, k) => {
      const cell = root.querySelector(`[data-model="${m}"] .recon-nats`);
      if (!nets.now(`${m}-decoder`)) cell.textContent = 'loading…';
      nets.get(`${m}-decoder`).then(net => {
        if (shown !== d) return;
        tell(m, null);
        const probs = decode(net, d.codes[m]);
        paint(canvases[k + 1], probs);
        const nats = crossEntropy(d.pixels, probs, data.image_size, data.framing.mnist_size);
        cell.textContent = `${nats.toFixed(1)} nats`;
        cell.dataset.value = nats;
      }, error => {
        if (shown !== d) return;
        canvases[k + 1].getContext('2d').clearRect(0, 0, data.image_size, data.image_size);
        cell.textContent = 'not available';
        delete cell.dataset.value;
        tell(m, `${error.message} Its reconstruction cannot be shown.`);
      });
    });
    const sd = d.logvar?.[variational]?.map(v => Math.exp(0.5 * v));
    root.querySelector('.recon-sigma').textContent = sd
      ? `σ per latent value: ${sd.map(s => s.toFixed(3)).join(', ')} (the prior's is 1)` : '';
    samples.replaceChildren();
  }

  root.querySelector('.recon-sample').addEventListener('click', () => {
    const d = state.current();
    const logvar = d?.logvar?.[variational];
    if (!logvar) return;
    nets.get(`${variational}-decoder`).then(net => {
      const codes = Array.from({ length: SAMPLES }, () =>
        d.codes[variational].map((mu, i) => mu + Math.exp(0.5 * logvar[i]) * gauss()));
      const pixels = decode(net, codes), n = data.image_size ** 2;
      samples.replaceChildren(...codes.map((_, k) => {
        const c = document.createElement('canvas');
        c.width = c.height = data.image_size;
        paint(c, pixels.subarray(k * n, (k + 1) * n));
        return c;
      }));
      tell('samples', null);
    }, error => tell('samples', `${error.message} No samples can be drawn.`));
  });
  state.on('inputs.recon', render);
  render();
}

export default createRecon;   // the figure's view: started by main.js in its data-view element
