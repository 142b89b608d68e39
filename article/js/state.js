// The reader's state, shared by every figure: the model shown (and the VAE last shown,
// which the beta control picks), the code its decoder receives, the selected inputs and
// the interpolation position. Views change it only
// through the setters below and hear of every change through one dispatcher:
//   'model'  (name, previous)          'latent' (z, previous, source)
//   'inputs' ()                        'interp' (t)
// No DOM here: tested in Node. Needs the global `d3` (for d3.dispatch).

/**
 * @param {object} data data/figure-data.json with its palette
 * @returns the state object
 */
export function createState(data) {
  const bus = d3.dispatch('model', 'latent', 'inputs', 'interp');
  const inputs = new Map(data.inputs.map(d => [d.id, d]));
  let model = data.model_order[0];
  let vae = data.model_order.find(m => data.models[m].variational) ?? model;   // the VAE last shown
  let z = new Array(data.latent_dim).fill(0);
  let selected = [];                              // [{id, colour}], oldest first
  let t = null;                                   // interpolation position, or null

  const axes = (m = model) => data.models[m].axes;
  const clamp = (v, i, m = model) => Math.min(axes(m)[i].range[1], Math.max(axes(m)[i].range[0], v));
  const lerp = (a, b, s) => a.map((v, i) => (1 - s) * v + s * b[i]);

  function emitLatent(next, source) {
    const previous = z;
    z = next;
    bus.call('latent', null, z, previous, source);
  }

  const state = {
    data,
    get model() { return model; },
    /** The VAE last shown: the one the beta control shows chosen, and the toggle returns to. */
    get vae() { return vae; },
    get z() { return z; },
    get t() { return t; },
    get selected() { return selected; },
    input: id => inputs.get(id),
    get inputs() { return [...inputs.values()]; },
    colour: id => selected.find(s => s.id === id)?.colour ?? null,
    /** The last selected input, or null. */
    current: () => (selected.length ? inputs.get(selected[selected.length - 1].id) : null),
    /** The inputs the interpolation walks between: [second most recent, most recent], or null. */
    pair: () => (selected.length >= 2 ? selected.slice(-2).map(s => inputs.get(s.id)) : null),
    on(type, fn) { bus.on(type, fn); return state; },

    /** Sets the code (clamped into the axes of the model shown); non-numbers keep their value. */
    setLatent(values, source = 'set') {
      const next = z.map((old, i) => (Number.isFinite(+values[i]) ? clamp(+values[i], i) : old));
      if (source !== 'interp' && t !== null) { t = null; bus.call('interp', null, t); }
      if (next.some((v, i) => v !== z[i])) emitLatent(next, source);
    },
    /** Shows `name`'s model; its code becomes `code` (or follows the interpolation). */
    setModel(name, code = z) {
      if (!(name in data.models) || name === model) return;
      const previous = model;
      model = name;
      if (data.models[name].variational) vae = name;
      bus.call('model', null, model, previous);
      if (t !== null && state.pair()) state.setInterp(t);
      else emitLatent(code.map((v, i) => clamp(v, i)), 'model');
    },
    /** Selects (or deselects) an input; a newly selected one gets the first free colour. */
    select(id, on = !state.colour(id)) {
      if (!inputs.has(id) || on === Boolean(state.colour(id))) return;
      if (on) {
        const used = new Set(selected.map(s => s.colour));
        const colour = data.palette.inputs.find(c => !used.has(c)) ??
          data.palette.inputs[selected.length % data.palette.inputs.length];
        selected = [...selected, { id, colour }];
      } else {
        selected = selected.filter(s => s.id !== id);
      }
      if (t !== null && !state.pair()) t = null;
      bus.call('inputs');
    },
    /** Adds (or replaces) an input made in the page, e.g. a drawing. */
    addInput(input) {
      inputs.set(input.id, input);
      bus.call('inputs');
    },
    /** Snaps the code to an input's code in the model shown. */
    snap(id) {
      const d = inputs.get(id);
      if (d) state.setLatent(d.codes[model], 'snap');
    },
    /** Moves the code along the straight line between the pair's codes: 0 first, 1 second. */
    setInterp(value) {
      const pair = state.pair();
      if (!pair || !Number.isFinite(+value)) return;
      t = Math.min(1, Math.max(0, +value));
      bus.call('interp', null, t);
      const next = lerp(pair[0].codes[model], pair[1].codes[model], t).map((v, i) => clamp(v, i));
      if (next.some((v, i) => v !== z[i])) emitLatent(next, 'interp');
    },
  };
  return state;
}

/** The shareable part of the state as a URL fragment (without '#'); numbers are written
 * exactly (shortest round-trip form), drawings are left out. */
export function toHash(state) {
  const parts = [`m=${state.model}`, `z=${state.z.map(String).join(',')}`];
  const ids = state.selected.map(s => s.id).filter(id => state.input(id)?.kind !== 'drawn');
  if (ids.length) parts.push(`in=${ids.map(encodeURIComponent).join(',')}`);
  if (state.t !== null) parts.push(`t=${state.t}`);
  return parts.join('&');
}

/**
 * Reads a fragment written by toHash; anything malformed or unknown is left out. The model
 * may be one of the beta family that the page has not loaded yet (restore skips it then).
 * @returns {{model?: string, z?: number[], inputs: string[], t?: number}}
 */
export function fromHash(hash, data) {
  const out = { inputs: [] };
  let params;
  try {
    params = new URLSearchParams(String(hash).replace(/^#/, ''));
  } catch {
    return out;
  }
  const m = params.get('m');
  if (m && (Object.hasOwn(data.models, m) || data.betas?.models.some(b => b.name === m))) out.model = m;
  const z = (params.get('z') ?? '').split(',').map(Number);
  if (z.length === data.latent_dim && z.every(Number.isFinite)) out.z = z;
  const known = new Set(data.inputs.map(d => d.id));
  out.inputs = [...new Set((params.get('in') ?? '').split(',').filter(id => known.has(id)))]
    .slice(0, data.palette.inputs.length);
  const t = params.get('t');
  if (t !== null && t !== '' && Number.isFinite(+t) && +t >= 0 && +t <= 1) out.t = +t;
  return out;
}

/** Whether what fromHash read says anything about the state (else it is, e.g., a link to a
 * section of the page). */
export const hasState = saved => Boolean(saved.model || saved.z || saved.inputs.length);

/**
 * Makes the state what fromHash read, also on a page already in use: the model (the first
 * of model_order if none is given), the inputs selected in that order (drawings, never in
 * the fragment, stay selected) and the code. Without a code or an interpolation position,
 * the code is the most recent input's in the model shown. Returns hasState(saved).
 */
export function restore(state, saved) {
  state.setModel(saved.model ?? state.data.model_order[0]);
  const ids = state.selected.map(s => s.id).filter(id => state.input(id)?.kind !== 'drawn');
  let same = 0;                                   // keep the common start (and its colours)
  while (same < ids.length && ids[same] === saved.inputs[same]) same++;
  for (const id of ids.slice(same)) state.select(id, false);
  for (const id of saved.inputs.slice(same)) state.select(id, true);
  if (saved.t !== undefined && state.pair()) state.setInterp(saved.t);
  else if (saved.z) state.setLatent(saved.z, 'url');
  else if (state.current()) state.snap(state.current().id);
  return hasState(saved);
}
