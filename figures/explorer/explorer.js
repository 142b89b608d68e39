// The latent explorer: the latent values as parallel coordinates, the selected inputs'
// codes as coloured lines (the VAE's with +-2 sigma), and a black line whose points are
// decoded live into an image that the judge then reads. Both models are in view at once:
// the front model (the shared state's) owns the axes, the lines and the handles; the other
// model's lines are drawn ghosted in grey, each axis stretched to its own range, and its
// decoder shows its own code of the same picture (see otherRule). The view keeps no state
// of its own beyond its layout and that other code: it draws the shared state (state.js)
// and changes it through its setters. Needs the globals `tf` and `d3`.
import { classify, decode, encode } from './models.js';
import { aDigit, gauss, paint } from './digits.js';
import { createDrawpad } from './drawpad.js';
import { createInterpolation } from './interp.js';

const DEFAULTS = {
  height: [260, 380],                            // plot height in px: least, most
  margin: { top: 40, right: 46, bottom: 16, left: 12 },   // right: room for the last axis's value
  step: 0.01,                                    // arrow-key step, as a fraction of an axis
  bigStep: 0.1,                                  // PageUp/PageDown step
  settle: 350,                                   // ms without change before the judge reads
  doubleTap: 350,                                // ms between two taps of a double tap
  follow: 120,                                   // ms without change before the other encoder reads
};
const fmt = d3.format('.2f');
let instances = 0;

const DICE = `<svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
  <rect x="1.5" y="1.5" width="13" height="13" rx="3" fill="none" stroke="currentColor" stroke-width="1.4"/>
  <g fill="currentColor"><circle cx="5" cy="5" r="1.3"/><circle cx="11" cy="5" r="1.3"/>
  <circle cx="8" cy="8" r="1.3"/><circle cx="5" cy="11" r="1.3"/><circle cx="11" cy="11" r="1.3"/></g></svg>`;

const markup = (label, batch) => `
  <div class="ex-inputs">
    <p class="ex-heading">Test digits</p>
    <div class="ex-thumbs ex-digits" role="group" aria-label="Test digits"></div>
    <p class="ex-heading">Never seen in training</p>
    <div class="ex-thumbs ex-ood" role="group" aria-label="Inputs unlike any training digit"></div>
    <p class="ex-heading">Draw your own</p>
    <div class="ex-draw"></div>
    <div class="ex-thumbs ex-drawn" role="group" aria-label="Your drawings"></div>
  </div>
  <div class="ex-main">
    <div class="ex-controls">
      <label class="ex-toggle"><input type="checkbox" class="ex-switch"> Show ${label}</label>
      <label class="ex-beta" hidden title="Swap in a VAE trained with another β (loaded when you choose it)">β
        <select class="ex-beta-choice" aria-label="β of the VAE"></select></label>
      <button type="button" class="ex-random" aria-label="Random"
        title="Draw a code from the standard normal N(0, I), the same dice for both models">${DICE}<span>Random</span></button>
      <button type="button" class="ex-fitted" aria-label="Fitted normal"
        title="Draw one set of dice and turn it into each model's code with a normal fitted to that model's training codes">${DICE}<span>Fitted</span></button>
      <button type="button" class="ex-roll" aria-label="Roll ${batch} codes for both models"
        title="Draw ${batch} codes from N(0, I); each model decodes every one, and the judge counts the digits it recognises">${DICE}<span>Roll ${batch}</span></button>
      <span class="ex-hint">Drag the black points, or double-click a coloured line.</span>
    </div>
    <svg class="ex-plot"></svg>
    <ul class="ex-legend" aria-label="Selected inputs"></ul>
    <p class="ex-ghost-note"></p>
    <div class="ex-interp"></div>
  </div>
  <div class="ex-output">
    <figure class="ex-panel ex-front">
      <canvas class="ex-decoded" role="img"></canvas>
      <figcaption class="ex-caption"></figcaption>
      <p class="ex-verdict"></p>
    </figure>
    <figure class="ex-panel ex-other">
      <canvas class="ex-decoded-other" role="img"></canvas>
      <figcaption class="ex-caption ex-other-caption"></figcaption>
      <p class="ex-other-code"></p>
      <p class="ex-other-verdict"></p>
    </figure>
    <figure class="ex-panel ex-recons" data-empty="true">
      <div class="ex-recons-row">
        <div class="ex-recons-cell"><canvas class="ex-recons-input" role="img" aria-label="Selected input"></canvas>
          <span class="ex-recons-name">Input</span></div>
        <div class="ex-recons-cell" data-slot="0"><canvas role="img"></canvas><span class="ex-recons-model"></span></div>
        <div class="ex-recons-cell" data-slot="1"><canvas role="img"></canvas><span class="ex-recons-model"></span></div>
      </div>
      <figcaption class="ex-caption ex-recons-caption">The input you selected last and each model’s reconstruction
        of it: its decoder on its own code of that input. Snap the black line onto the input and the decoded images
        show the same.</figcaption>
    </figure>
    <p class="ex-backend"></p>
  </div>
  <p class="ex-tally" role="status"></p>
  <p class="ex-live visually-hidden" aria-live="polite"></p>
  <p class="ex-message" role="status"></p>`;

/**
 * Builds the explorer inside `root`.
 * @param {HTMLElement} root
 * @param {{state, data, nets, switchModel: (name: string) => Promise<void>}} app
 */
export function createExplorer(root, app, options = {}) {
  const opt = { ...DEFAULTS, batch: Number(root.dataset.batch), ...options };   // batch: codes per roll of many, set by the markup
  const { state, data, nets } = app;
  const DIM = data.latent_dim, SIZE = data.image_size, palette = data.palette;
  const label = m => data.models[m].label;
  const other = data.model_order[1];              // the model the toggle shows (the AE)
  const second = () => (state.model === other ? state.vae : other);   // the model behind the front one
  const clipTo = (m, z) => z.map((v, i) => Math.min(Math.max(v, data.models[m].axes[i].range[0]),
    data.models[m].axes[i].range[1]));
  const $ = q => root.querySelector(q);
  const ns = `.explorer${++instances}`;           // this view's listeners on the dispatcher
  const clipId = `explorer-clip-${instances}`;

  root.classList.add('explorer');
  root.innerHTML = markup(label(other), opt.batch);
  const decodedCanvas = $('.ex-decoded'), otherCanvas = $('.ex-decoded-other');
  decodedCanvas.width = decodedCanvas.height = otherCanvas.width = otherCanvas.height = SIZE;
  root.querySelectorAll('.ex-recons canvas').forEach(c => { c.width = c.height = SIZE; });
  const svg = d3.select($('.ex-plot'));
  const axes = () => data.models[state.model].axes;
  let decoded = null, frame = 0, settle = 0, broken = null;
  // the other model's code: {model, z (null until read), how: 'dice' | 'swap' | 'walk' | 'input' | 'read'}
  let behind = { model: second(), z: null, how: 'read' }, behindShown = null, brokenOther = null, follow = 0, dice = null, swapped = null;
  const tally = {};                               // model -> {ok, n}: Roll 100's recognised draws
  const messages = new Map();                     // what is loading or failed, by source

  /** Shows (or, with no text, clears) the message of one source: 'decoder', 'switch', 'drawing'. */
  function tell(source, text, error = false) {
    if (text) messages.set(source, { text, error });
    else messages.delete(source);
    const all = [...messages.values()];
    $('.ex-message').textContent = all.map(m => m.text).join(' ');
    root.dataset.error = String(all.some(m => m.error));
    root.dataset.loading = String(all.some(m => !m.error));
  }

  // ---- input panel ----
  function renderThumbs() {
    for (const [cls, kind] of [['.ex-digits', 'digit'], ['.ex-ood', 'ood'], ['.ex-drawn', 'drawn']]) {
      d3.select($(cls)).selectAll('button')
        .data(state.inputs.filter(d => d.kind === kind), d => d.id)
        .join(enter => {
          const b = enter.append('button').attr('type', 'button').attr('class', 'ex-thumb')
            .attr('aria-label', d => `Input: ${d.name}`).attr('title', d => d.name)
            .on('click', (event, d) => {
              const on = !state.colour(d.id);
              state.select(d.id, on);
              if (on) state.snap(d.id);
            });
          b.append('canvas').attr('width', SIZE).attr('height', SIZE);
          return b;
        })
        .attr('aria-pressed', d => String(Boolean(state.colour(d.id))))
        .style('--line', d => state.colour(d.id))
        .each(function (d) { paint(this.firstChild, d.pixels, 255); });
    }
  }

  // ---- the parallel coordinates ----
  const gViolins = svg.append('g').attr('class', 'ex-violins');
  const gAxes = svg.append('g').attr('class', 'ex-axes');
  const gTracks = svg.append('g').attr('class', 'ex-tracks');
  const clip = svg.append('clipPath').attr('id', clipId).append('rect');
  const gGhosts = svg.append('g').attr('class', 'ex-ghosts').attr('clip-path', `url(#${clipId})`);
  const gLines = svg.append('g').attr('class', 'ex-lines').attr('clip-path', `url(#${clipId})`);
  const reconPath = svg.append('path').attr('class', 'ex-recon').attr('stroke', palette.reconstruction);
  const gHandles = svg.append('g').attr('class', 'ex-handles');
  let x = d3.scalePoint(), y = [], yBehind = [], height = opt.height[1];

  function layout() {
    const width = svg.node().getBoundingClientRect().width || 600;
    const { top, right, bottom, left } = opt.margin;
    const most = parseFloat(getComputedStyle(root).getPropertyValue('--ex-plot-max')) || opt.height[1];
    height = Math.round(Math.min(most, opt.height[1], Math.max(opt.height[0], 0.8 * width)));
    svg.attr('viewBox', `0 0 ${width} ${height}`).attr('height', height);
    x = d3.scalePoint(d3.range(DIM), [left, width - right]).padding(0.5);
    y = axes().map(a => d3.scaleLinear(a.range, [height - bottom, top]));
    yBehind = data.models[second()].axes.map(a => d3.scaleLinear(a.range, [height - bottom, top]));
    clip.attr('x', 0).attr('y', top).attr('width', width).attr('height', height - top - bottom);
    renderAxes();
    renderLines();
    renderRecon();
    renderGhosts();
  }

  function renderAxes() {
    const half = Math.min(x.step() * 0.42, 70);
    gViolins.selectAll('path').data(axes()).join('path')
      .attr('fill', palette.violin)
      .attr('d', (a, i) => {
        const peak = d3.max(a.density) || 1;
        return d3.area().curve(d3.curveBasis)
          .y((_, k) => y[i](a.grid[k]))
          .x0((_, k) => x(i) - half * a.density[k] / peak)
          .x1((_, k) => x(i) + half * a.density[k] / peak)(a.grid);
      });
    gAxes.selectAll('g.ex-axis').data(axes()).join(enter => {
      const g = enter.append('g').attr('class', 'ex-axis');
      g.append('text').attr('class', 'ex-axis-title').attr('y', opt.margin.top - 22)
        .text('z').append('tspan').attr('dy', '0.3em').attr('font-size', '0.75em').text((_, i) => i + 1);
      return g;
    })
      .attr('transform', (_, i) => `translate(${x(i)},0)`)
      .each(function (a, i) {
        d3.select(this).call(d3.axisLeft(y[i]).ticks(5).tickSize(4).tickPadding(3));
      });
    // a click (mouse or pen) anywhere on an axis moves its point there; a finger scrolls
    // (d3.drag's inline touch-action: none would stop that, so the stylesheet's pan-y rules)
    gTracks.selectAll('rect').data(d3.range(DIM)).join('rect')
      .attr('x', i => x(i) - 14).attr('width', 28)
      .attr('y', opt.margin.top).attr('height', height - opt.margin.top - opt.margin.bottom)
      .call(drag(false).filter(event => event.type === 'mousedown' && !event.button))
      .style('touch-action', null);
  }

  const path = codes => d3.line()(codes.map((v, i) => [x(i), y[i](v)]));

  function renderLines() {
    const m = state.model;
    const shown = state.selected.map(s => state.input(s.id)).filter(d => d?.codes[m]);
    gLines.selectAll('g.ex-line').data(shown, d => d.id)
      .join(enter => {
        const l = enter.append('g').attr('class', 'ex-line').attr('data-input-id', d => d.id);
        l.append('path').attr('class', 'ex-hit');
        l.append('path').attr('class', 'ex-stroke');
        l.append('g').attr('class', 'ex-sigma');
        l.append('title');
        return l.on('dblclick', (event, d) => { event.preventDefault(); state.snap(d.id); })
          .on('pointerup', onTap);
      })
      .attr('data-model', m)
      .style('--line', d => state.colour(d.id))
      .each(function (d) {   // each part from the input now bound (a drawing is replaced by each stroke)
        const line = d3.select(this);
        line.selectAll('path').attr('d', path(d.codes[m]));
        line.select('title').text(`${d.name} (${label(m)}); double-click to decode it`);
        const sd = d.logvar?.[m]?.map(v => Math.exp(0.5 * v)) ?? [];   // the VAE's +-2 sigma
        line.select('.ex-sigma').selectAll('line').data(sd).join('line')
          .attr('x1', (_, i) => x(i)).attr('x2', (_, i) => x(i))
          .attr('y1', (s, i) => y[i](d.codes[m][i] - 2 * s)).attr('y2', (s, i) => y[i](d.codes[m][i] + 2 * s));
      });
    d3.select($('.ex-legend')).selectAll('li').data(shown, d => d.id)
      .join(enter => {
        const li = enter.append('li');
        li.append('span').attr('class', 'ex-swatch');
        li.append('span').attr('class', 'ex-name');
        li.append('button').attr('type', 'button').attr('class', 'ex-use').text('decode')
          .on('click', function () { state.snap(d3.select(this.parentNode).datum().id); });
        return li;
      })
      .style('--line', d => state.colour(d.id))
      .each(function (d) {
        const li = d3.select(this);
        li.select('.ex-name').text(d.name);
        li.select('.ex-use').attr('aria-label', `Decode ${d.name}`);
      });
  }

  let lastTap = { id: null, time: 0 };
  function onTap(event, d) {                      // a double tap snaps, like a double click
    if (event.pointerType !== 'touch') return;
    const now = event.timeStamp;
    if (lastTap.id === d.id && now - lastTap.time < opt.doubleTap) {
      state.snap(d.id);
      lastTap = { id: null, time: 0 };
    } else {
      lastTap = { id: d.id, time: now };
    }
  }

  // The other model's lines, greyed, each axis stretched to that model's own range: its codes
  // of the selected inputs and, dashed, the code its decoder receives.
  function renderGhosts() {
    const m = second();
    const ghostPath = codes => d3.line()(codes.map((v, i) => [x(i), yBehind[i](v)]));
    const lines = state.selected.map(s => state.input(s.id)).filter(d => d?.codes[m])
      .map(d => ({ key: d.id, codes: d.codes[m], title: `${d.name} (${label(m)})` }));
    if (behind.z && behind.model === m) lines.push({ key: 'code', codes: behind.z, title: `The ${label(m)}’s code` });
    gGhosts.selectAll('path').data(lines, d => d.key).join('path')
      .attr('class', d => (d.key === 'code' ? 'ex-ghost ex-ghost-code' : 'ex-ghost'))
      .attr('data-model', m).attr('data-input-id', d => (d.key === 'code' ? null : d.key))
      .attr('d', d => ghostPath(d.codes));
    const ranges = data.models[m].axes.map((a, i) => `z${i + 1} ${fmt(a.range[0])} to ${fmt(a.range[1])}`);
    $('.ex-ghost-note').textContent = `Grey: the ${label(m)}’s lines (dashed: its code), each axis stretched ` +
      `to the ${label(m)}’s range (${ranges.join(', ')}).`;
  }

  function renderRecon() {
    const z = state.z, a = axes();
    reconPath.attr('d', path(z));
    const h = gHandles.selectAll('g').data(d3.range(DIM)).join(enter => {
      const g = enter.append('g').attr('class', 'ex-handle').call(drag(true));
      g.append('circle').attr('class', 'ex-grip').attr('r', 12)     // the target: 24 px, a finger's on touch
        .attr('tabindex', 0).attr('role', 'slider')
        .attr('aria-orientation', 'vertical').attr('aria-label', i => `Latent ${i + 1}`)
        .on('keydown', onKey);
      g.append('circle').attr('class', 'ex-dot').attr('r', 7);       // what is seen
      g.append('text').attr('dy', '-0.7em');
      return g;
    });
    h.attr('transform', i => `translate(${x(i)},${y[i](z[i])})`);
    h.select('circle[role]')
      .attr('aria-valuemin', i => a[i].range[0]).attr('aria-valuemax', i => a[i].range[1])
      .attr('aria-valuenow', i => String(z[i])).attr('aria-valuetext', i => fmt(z[i]));
    h.select('text').text(i => fmt(z[i])).attr('x', 8);  // right of the point: the axis's tick labels are on its left
  }

  // Dragging axis i's black point: grabbed on the point (no jump) or anywhere on the axis.
  function drag(onPoint) {
    return d3.drag()
      .container(svg.node())
      .subject((event, i) => (onPoint ? { x: x(i), y: y[i](state.z[i]), i } : { x: event.x, y: event.y, i }))
      .on('start drag', event => {
        const { i } = event.subject, next = [...state.z];
        next[i] = y[i].invert(event.y);
        state.setLatent(next, 'drag');
      });
  }

  function onKey(event, i) {
    const v = state.z[i], [lo, hi] = axes()[i].range, span = hi - lo;
    const moves = { ArrowUp: opt.step, ArrowRight: opt.step, ArrowDown: -opt.step, ArrowLeft: -opt.step,
      PageUp: opt.bigStep, PageDown: -opt.bigStep };
    let value;
    if (event.key in moves) value = v + moves[event.key] * span;
    else if (event.key === 'Home') value = lo;
    else if (event.key === 'End') value = hi;
    else return;
    event.preventDefault();
    const next = [...state.z];
    next[i] = value;
    state.setLatent(next, 'key');
  }

  // ---- the other model's code: its rule ----
  /** The other model's code after a change of the front one from `source`: the same dice
   * (each clipped to its own axes), the front code it held before a swap, the same walk
   * between the same inputs, an input's own code when the black line sits on the input,
   * else (how 'read') its encoder's reading of the front decoder's image, once that is decoded. */
  function otherRule(source) {
    const m = second(), pair = state.pair();
    const on = state.selected.map(s => state.input(s.id))
      .find(d => d?.codes[state.model] && d.codes[state.model].every((v, i) => Math.abs(v - state.z[i]) < 1e-9));
    if (dice && source === 'random') behind = { model: m, z: clipTo(m, dice[m]), how: 'dice' };
    else if (swapped && swapped.model === m && source === 'model') behind = { model: m, z: clipTo(m, swapped.z), how: 'swap' };
    else if (state.t !== null && pair && pair.every(d => d.codes[m])) {
      behind = { model: m, z: clipTo(m, pair[0].codes[m].map((v, i) => (1 - state.t) * v + state.t * pair[1].codes[m][i])), how: 'walk' };
    } else if (on?.codes[m]) behind = { model: m, z: clipTo(m, on.codes[m]), how: 'input', name: on.name };
    else behind = { model: m, z: behind.model === m ? behind.z : null, how: 'read' };
    swapped = null;
    clearTimeout(follow);
    renderGhosts();
  }

  /** The other encoder reads the front decoder's image (only when the rule says so). */
  function readOther() {
    const shown = decoded, m = second();
    if (behind.how !== 'read' || !shown || shown.model !== state.model) return;
    nets.get(`${m}-encoder`).then(encoder => {
      if (shown !== decoded || behind.how !== 'read' || second() !== m) return;
      behind = { model: m, z: clipTo(m, encode(encoder, shown.pixels, DIM).mean), how: 'read', of: shown };
      renderGhosts();
      requestDecode();
    }, error => {
      if (second() !== m) return;
      behind = { model: m, z: null, how: 'read' };
      renderGhosts();
      otherFailed(m, `${error.message} The ${label(m)}’s code of this picture cannot be read.`);
    });
  }

  // ---- decoded output, and what the judge reads in it ----
  /** Decodes, once per animation frame, the front code and (when it has changed) the other one. */
  function requestDecode() {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      decodeFront();
      decodeOther();
    });
  }

  function decodeOther() {
    const m = behind.model, z = behind.z;
    if (!z || behindShown?.z === z) return;
    const net = nets.now(`${m}-decoder`);
    if (!net) {
      if (brokenOther === m) return;               // tried again when it comes back behind
      nets.get(`${m}-decoder`).then(requestDecode, error => {
        brokenOther = m;
        otherFailed(m, `${error.message} The ${label(m)}’s decoded image cannot be shown.`);
      });
      return;
    }
    otherFailed(m, null);
    const pixels = decode(net, z);
    behindShown = { model: m, z, pixels };
    paint(otherCanvas, pixels);
    renderOther();
    clearTimeout(settle);
    settle = setTimeout(readDecoded, opt.settle);
  }

  /** The other model's trouble is said in its own panel: the front model's stays usable. */
  function otherFailed(m, text) {
    const o = $('.ex-other');
    if (text === null && o.dataset.error !== 'true') return;
    o.dataset.error = String(Boolean(text));
    if (text) {
      $('.ex-other-code').textContent = text;
      otherCanvas.getContext('2d').clearRect(0, 0, SIZE, SIZE);
      behindShown = null;
    } else {
      renderOther();
    }
  }

  function renderOther() {
    const shown = behindShown, m = shown?.model ?? second();
    const o = $('.ex-other');
    o.dataset.model = m;
    o.dataset.how = behind.how;
    o.dataset.z = shown ? shown.z.join(',') : '';
    // what it decodes: in its caption, and in full beside its code
    const [what, why] = {
      dice: ['the same dice', 'the same dice as the front model'],
      swap: ['the code it had in front', 'the code it had in front'],
      walk: ['the same walk', 'the same walk between the same inputs'],
      input: ['its own code of the same input', `its own code of ${behind.name}`],
      read: ['its own code of the same picture', `its encoder’s reading of the ${label(state.model)}’s image`],
    }[behind.how];
    $('.ex-other-caption').innerHTML = `The <b>${label(m)}</b>’s decoder on ${what}`;
    $('.ex-other-code').textContent = shown ? `Code ${shown.z.map(fmt).join(', ')}: ${why}.` : '';
  }

  function decodeFront() {
      const net = nets.now(`${state.model}-decoder`);
      if (!net) {
        if (broken === state.model) return;        // tried again when the reader comes back to it
        tell('decoder', `Loading the ${label(state.model)}’s decoder…`);
        const wanted = state.model;
        nets.get(`${wanted}-decoder`).then(requestDecode, error => {
          if (wanted !== state.model) return;      // the reader has moved on to another model
          broken = wanted;
          decodedCanvas.getContext('2d').clearRect(0, 0, SIZE, SIZE);
          decoded = app.decoded = null;
          $('.ex-verdict').textContent = '';
          tell('decoder', `${error.message} The decoded image cannot be shown.`, true);
        });
        return;
      }
      if (decoded && decoded.model === state.model && decoded.z === state.z) return;
      tell('decoder', null);
      const pixels = decode(net, state.z);
      decoded = { model: state.model, z: state.z, pixels };
      app.decoded = decoded;
      paint(decodedCanvas, pixels);
      root.dataset.ready = 'true';
      clearTimeout(settle);
      settle = setTimeout(readDecoded, opt.settle);
      if (behind.how === 'read') follow = setTimeout(readOther, opt.follow);
  }

  const reading = (judge, pixels) => {
    const probs = classify(judge, pixels);
    const best = d3.maxIndex(probs), sure = probs[best];
    const ok = sure >= data.judge.threshold;
    return { best, ok, text: ok ? `reads ${aDigit(best)} (${d3.format('.0%')(sure)} sure)`
      : `is not sure what this is (${aDigit(best)} at best, ${d3.format('.0%')(sure)})` };
  };

  function readDecoded() {
    const shown = decoded, back = behindShown;
    if (!nets.now('judge')) $('.ex-verdict').textContent = 'The judge is loading…';
    nets.get('judge').then(judge => {
      if (back === behindShown && back) {
        const r = reading(judge, back.pixels), v = $('.ex-other-verdict');
        v.textContent = `The judge ${r.text}.`;
        v.dataset.recognisable = String(r.ok);
      }
      if (shown !== decoded || !shown) return;
      const { best, ok, text: verdict } = reading(judge, shown.pixels);
      const v = $('.ex-verdict');
      v.textContent = `The judge ${verdict}.`;
      v.dataset.digit = best;
      v.dataset.recognisable = String(ok);
      const snapped = state.selected.map(s => state.input(s.id))
        .find(d => d && d.codes[shown.model].every((c, i) => Math.abs(c - shown.z[i]) < 1e-9));
      $('.ex-live').textContent = `${label(shown.model)} decoder: ` +
        `${snapped ? `the reconstruction of ${snapped.name}; ` : ''}the judge ${verdict}.`;
    }, error => {                                   // no judge, no verdict: the image is there
      if (shown !== decoded) return;
      const v = $('.ex-verdict');
      v.textContent = `No reading of this image: ${error.message}`;
      v.dataset.digit = '';
      v.dataset.recognisable = '';
    });
  }

  // ---- the selected input beside both models' reconstructions of it ----
  let reconShown = null;
  function renderRecons() {
    const d = state.current(), panel = $('.ex-recons');
    panel.dataset.empty = String(!d);
    const models = [state.model, second()];
    models.forEach((m, k) => {
      const cell = panel.querySelector(`[data-slot="${k}"]`);
      cell.dataset.model = m;
      cell.querySelector('canvas').setAttribute('aria-label', `${label(m)} reconstruction of the selected input`);
      cell.querySelector('.ex-recons-model').textContent = label(m);
    });
    const key = d && `${d.id}|${d.pixels.length}|${models.join(',')}|${models.map(m => d.codes[m]?.join(',')).join('|')}`;
    if (key === reconShown) return;
    reconShown = key;
    const canvases = [...panel.querySelectorAll('canvas')];
    if (!d) {
      canvases.forEach(c => c.getContext('2d').clearRect(0, 0, SIZE, SIZE));
      return;
    }
    panel.querySelector('.ex-recons-name').textContent = `Input: ${d.name}`;
    paint(canvases[0], d.pixels, 255);
    models.forEach((m, k) => {
      const canvas = canvases[k + 1], z = d.codes[m];
      canvas.getContext('2d').clearRect(0, 0, SIZE, SIZE);
      if (!z) return;
      nets.get(`${m}-decoder`).then(net => {
        if (reconShown !== key) return;
        paint(canvas, decode(net, z));
      }, () => {});                               // the decoded panels say what failed
    });
  }

  function renderControls() {                     // the controls show the state, never a past choice
    const beta = $('.ex-beta-choice');
    beta.value = state.model;
    if (beta.value !== state.model) beta.value = '';   // the AE has no β: choosing any then acts
    $('.ex-switch').checked = state.model === other;
  }

  function renderModel() {
    root.dataset.model = state.model;
    renderControls();
    decodedCanvas.setAttribute('aria-label', `${label(state.model)} decoded image`);
    $('.ex-front .ex-caption').innerHTML = `What the <b>${label(state.model)}</b>’s decoder makes of the black line`;
    const m = second();
    otherCanvas.setAttribute('aria-label', `${label(m)} decoded image (other model)`);
    renderRecons();
    if (behindShown && behindShown.model !== m) {
      behindShown = null;
      otherCanvas.getContext('2d').clearRect(0, 0, SIZE, SIZE);
      $('.ex-other-verdict').textContent = '';
    }
    renderOther();                                 // its caption names the new model
    layout();
  }

  function showError(error) {
    console.warn('latent explorer:', error);
    tell('switch', `${error.message} The model shown stays as it was.`, true);
  }

  // ---- loading: the backend, and drawings read by the encoders ----
  app.backend().then(({ name, reason }) => {
    root.dataset.backend = name;
    $('.ex-backend').textContent = name === 'wasm' ? 'The models run in your browser: TF.js on WebAssembly.'
      : `The models run in your browser: TF.js on plain JavaScript (its ${name} backend), slower, ` +
        `because WebAssembly ${reason}.`;
  });
  app.events.on(`drawing${ns}`, (status, error) => {
    if (status === 'reading') tell('drawing', nets.now(`${state.model}-encoder`) ? null : 'Loading the encoders to read your drawing…');
    else if (status === 'error') tell('drawing', `${error.message} Your drawing cannot be read.`, true);
    else tell('drawing', null);
  });

  // ---- controls ----
  $('.ex-switch').addEventListener('change', e => {
    app.switchModel(e.target.checked ? other : state.vae, behindCode())
      .then(() => tell('switch', null), error => showError(error))
      .finally(renderControls);
  });
  if (data.betas) {                               // the beta family, if the build trained one
    $('.ex-beta').hidden = false;
    const choice = d3.select($('.ex-beta-choice'));
    choice.selectAll('option').data(data.betas.models).join('option')
      .attr('value', b => b.name).text(b => d3.format('~g')(b.beta));
    choice.append('option').attr('value', '').property('disabled', true).property('hidden', true)
      .text('–');                                 // shown while the AE is: it has no β
    $('.ex-beta-choice').addEventListener('change', e => {
      app.showVae(e.target.value).then(() => tell('switch', null), error => showError(error))
        .finally(renderControls);
    });
  }
  /** One roll of the dice for both models: `code(model, eps)` turns the same eps into each one's code. */
  function roll(code) {
    const eps = state.z.map(() => gauss());
    dice = Object.fromEntries([state.model, second()].map(m => [m, code(m, eps)]));
    try {
      state.setLatent(dice[state.model], 'random');
    } finally {
      dice = null;
    }
  }
  $('.ex-random').addEventListener('click', () => roll((m, eps) => eps));
  $('.ex-fitted').addEventListener('click', () => roll((m, eps) => {
    const { mean, chol } = data.models[m].fitted;  // z = mean + L eps
    return mean.map((mu, i) => mu + chol[i].reduce((s, l, j) => s + l * eps[j], 0));
  }));

  // Roll 100: the same codes through both decoders (each clipped to its axes); the judge counts.
  async function rollMany() {
    const names = [state.model, second()];
    const codes = Array.from({ length: opt.batch }, () => state.z.map(() => gauss()));
    const [judge, ...decoders] = await Promise.all([nets.get('judge'), ...names.map(m => nets.get(`${m}-decoder`))]);
    names.forEach((m, k) => {
      const pixels = decode(decoders[k], codes.map(z => clipTo(m, z)));
      const t = (tally[m] ??= { ok: 0, n: 0 });
      for (let j = 0; j < opt.batch; j++) {
        t.ok += reading(judge, pixels.subarray(j * SIZE * SIZE, (j + 1) * SIZE * SIZE)).ok;
        t.n += 1;
      }
    });
    showTally();
  }
  /** The tally of the two models on show (empty until one of them has been rolled for). */
  function showTally() {
    const names = [state.model, second()].filter(m => tally[m]);
    $('.ex-tally').textContent = names.length ? `The judge recognises ${names.map(m => `${label(m)} ${tally[m].ok} of ${tally[m].n}`)
      .join(', ')} draws from N(0, I).` : '';
  }
  $('.ex-roll').addEventListener('click', () => rollMany()
    .then(() => tell('roll', null), error => tell('roll', `${error.message} The draws cannot be counted.`, true)));

  // the other model's code when it is current (what a swap of the two should keep)
  const behindCode = () => (behind.z && behind.model === second() && (behind.how !== 'read' || behind.of === decoded)
    ? behind.z : undefined);
  state.on(`latent${ns}`, (z, previous, source) => { renderRecon(); otherRule(source); requestDecode(); })
    .on(`model${ns}`, (model, previous) => {
      broken = brokenOther = null;
      // a swap: the model that was in front goes behind with the code it had
      swapped = second() === previous ? { model: previous, z: state.z } : null;
      renderModel();
      showTally();                                // a β swapped in has its own count, or none yet
      requestDecode();
    })
    .on(`inputs${ns}`, () => { renderThumbs(); renderLines(); renderRecons(); otherRule('inputs'); requestDecode(); });

  // ---- start ----
  createDrawpad($('.ex-draw'), app);
  createInterpolation($('.ex-interp'), app);
  new ResizeObserver(() => layout()).observe($('.ex-main'));
  renderThumbs();
  renderModel();
  otherRule('start');                             // the state may have been set before this view
  requestDecode();
  return { showError };
}

export default createExplorer;   // the figure's view: started by main.js in its data-view element
