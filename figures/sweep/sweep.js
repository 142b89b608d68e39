// The sweep's draws, one latent size and one sampler at a time: the reader picks both, and the
// two models' cards for that choice are shown. The markup holds every card; without this
// script the main size's N(0, I) draws stay in view, and the appendix has all of them.

/**
 * @param {HTMLElement} root the figure's data-view="sweep" element, where the controls go
 */
export default function createSweep(root) {
  const cards = [...root.closest('figure').querySelectorAll('.sweep-card')];
  const sizes = [...new Set(cards.map(c => c.dataset.latentDim))];
  const samplers = [...new Map(cards.map(c => [c.dataset.sampler, c.dataset.samplerName]))];
  const group = (legend, name, options, checked) => `<fieldset><legend>${legend}</legend>${options.map(([value, label]) =>
    `<label><input type="radio" name="${name}" value="${value}"${value === checked ? ' checked' : ''}> ${label}</label>`).join('')}</fieldset>`;
  root.innerHTML = group('Latent values', 'sweep-size', sizes.map(d => [d, d]), root.dataset.main) +
    group('Sampler', 'sweep-sampler', samplers, samplers[0][0]);
  const chosen = name => root.querySelector(`input[name="${name}"]:checked`)?.value;
  function show() {
    const size = chosen('sweep-size'), sampler = chosen('sweep-sampler');
    for (const card of cards) card.hidden = card.dataset.latentDim !== size || card.dataset.sampler !== sampler;
  }
  root.addEventListener('change', show);
  show();
}
