// The latent explorer: four latent values as parallel coordinates, the reader's inputs as
// coloured lines, and a black line whose points are decoded live into an image.
// Needs the globals `tf` and `d3` (the classic scripts in lib/).
import { loadModels, encode, decode } from './models.js';

const DEFAULTS = {
  height: [260, 380],                            // plot height in px: least, most
  margin: { top: 40, right: 12, bottom: 16, left: 12 },
  step: 0.01,                                    // arrow-key step, as a fraction of an axis
  bigStep: 0.1,                                  // PageUp/PageDown step
};
const LABEL = { ae: 'AE', vae: 'VAE' };
const OTHER = { ae: 'vae', vae: 'ae' };
const fmt = d3.format('.2f');
let instances = 0;

const DICE = `<svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
  <rect x="1.5" y="1.5" width="13" height="13" rx="3" fill="none" stroke="currentColor" stroke-width="1.4"/>
  <g fill="currentColor"><circle cx="5" cy="5" r="1.3"/><circle cx="11" cy="5" r="1.3"/>
  <circle cx="8" cy="8" r="1.3"/><circle cx="5" cy="11" r="1.3"/><circle cx="11" cy="11" r="1.3"/></g></svg>`;

const MARKUP = `
  <div class="ex-inputs">
    <p class="ex-heading">Test digits</p>
    <div class="ex-thumbs ex-digits" role="group" aria-label="Test digits"></div>
    <p class="ex-heading">Never seen in training</p>
    <div class="ex-thumbs ex-ood" role="group" aria-label="Inputs unlike any training digit"></div>
    <p class="ex-heading">Draw your own</p>
    <div class="ex-draw">
      <div class="ex-pad-box"><canvas class="ex-pad" aria-label="Canvas to draw your own input"></canvas>
        <span class="ex-pad-hint" aria-hidden="true">draw here</span></div>
      <button type="button" class="ex-clear">Clear</button>
    </div>
    <div class="ex-thumbs ex-drawn" role="group" aria-label="Your drawings"></div>
  </div>
  <div class="ex-main">
    <div class="ex-controls">
      <label class="ex-toggle"><input type="checkbox" class="ex-show-ae"> Show AE</label>
      <button type="button" class="ex-random">${DICE}<span>Random</span></button>
      <span class="ex-hint">Drag the black points, or double-click a coloured line.</span>
    </div>
    <svg class="ex-plot"></svg>
    <ul class="ex-legend" aria-label="Selected inputs"></ul>
  </div>
  <figure class="ex-output">
    <canvas class="ex-decoded"></canvas>
    <figcaption class="ex-caption"></figcaption>
  </figure>
  <p class="ex-message" role="status"></p>`;

/** Base64 of 1024 bytes -> Uint8Array. */
function fromBase64(text) {
  return Uint8Array.from(atob(text), c => c.charCodeAt(0));
}

/** Paints grey values (white ink on black, 0..255) black on white into a square canvas of
 * as many pixels. */
function paint(canvas, values) {
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(canvas.width, canvas.height);
  values.forEach((v, k) => {
    img.data.fill(255 - v, 4 * k, 4 * k + 3);
    img.data[4 * k + 3] = 255;
  });
  ctx.putImageData(img, 0, 0);
}

const roundHalfEven = x => {                    // Python's round()
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 ? r - 1 : r;
};
const sinc = x => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));
const lanczos = x => (x > -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0);

/** Lanczos-3 resampling weights from `n` to `m` samples, antialiased like PIL's resize. */
function weights(n, m) {
  const scale = n / m, fs = Math.max(scale, 1), support = 3 * fs;
  return d3.range(m).map(i => {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(centre - support + 0.5));
    const hi = Math.min(n, Math.trunc(centre + support + 0.5));
    const w = d3.range(lo, hi).map(x => lanczos((x - centre + 0.5) / fs));
    const sum = d3.sum(w) || 1;
    return { lo, w: w.map(v => v / sum) };
  });
}

/** Resizes a (h, w) grey image to (nh, nw): horizontal pass, then vertical, 8-bit between. */
function resize(src, w, h, nw, nh) {
  const byte = v => Math.min(255, Math.max(0, Math.floor(v + 0.5)));
  const wx = weights(w, nw), wy = weights(h, nh);
  const mid = new Float64Array(nw * h), out = new Float64Array(nw * nh);
  for (let y = 0; y < h; y++) {
    wx.forEach(({ lo, w: k }, x) => {
      mid[y * nw + x] = byte(k.reduce((s, v, j) => s + v * src[y * w + lo + j], 0));
    });
  }
  for (let x = 0; x < nw; x++) {
    wy.forEach(({ lo, w: k }, y) => {
      out[y * nw + x] = byte(k.reduce((s, v, j) => s + v * mid[(lo + j) * nw + x], 0));
    });
  }
  return out;
}

/**
 * Frames a drawing as MNIST framed its digits (same steps as training/inputs.py
 * frame_like_mnist): ink bounding box scaled to fit 20x20, centre of mass at the centre
 * of the 28x28 field, zero-padded to 32x32. The sizes come from the build (figures.json).
 * @param {Uint8ClampedArray} ink (h*w) ink bytes, 0..255
 * @param {{image_size: number, mnist_size: number, box: number}} sizes
 * @returns {Uint8Array|null} image_size**2 bytes, white ink on black; null for an empty drawing
 */
export function frameLikeMnist(ink, w, h, { image_size: IMAGE_SIZE, mnist_size: MNIST_SIZE, box: BOX }) {
  const PAD = (IMAGE_SIZE - MNIST_SIZE) / 2;
  let x0 = w, x1 = -1, y0 = h, y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (ink[y * w + x] > 0.05 * 255) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return null;
  const cw = x1 - x0 + 1, ch = y1 - y0 + 1;
  const crop = new Float64Array(cw * ch);
  for (let y = 0; y < ch; y++) for (let x = 0; x < cw; x++) crop[y * cw + x] = ink[(y + y0) * w + x + x0];
  const scale = BOX / Math.max(ch, cw);
  const nh = Math.max(1, roundHalfEven(ch * scale)), nw = Math.max(1, roundHalfEven(cw * scale));
  const small = resize(crop, cw, ch, nw, nh);
  let total = 0, cy = 0, cx = 0;
  small.forEach((v, k) => { total += v; cy += v * Math.floor(k / nw); cx += v * (k % nw); });
  if (!total) return null;
  const top = roundHalfEven(MNIST_SIZE / 2 - 0.5 - cy / total) + PAD;
  const left = roundHalfEven(MNIST_SIZE / 2 - 0.5 - cx / total) + PAD;
  const out = new Uint8Array(IMAGE_SIZE * IMAGE_SIZE);
  for (let y = 0; y < nh; y++) {
    for (let x = 0; x < nw; x++) {
      const Y = y + top, X = x + left;
      if (Y >= PAD && Y < IMAGE_SIZE - PAD && X >= PAD && X < IMAGE_SIZE - PAD) {
        out[Y * IMAGE_SIZE + X] = small[y * nw + x];
      }
    }
  }
  return out;
}

/** Normal sample (Box-Muller). */
function gauss() {
  return Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
}

/**
 * Builds the explorer inside `root`.
 * @param {HTMLElement} root
 * @param {{figures: object, options?: object}} args figures: data/figures.json with its palette
 */
export function createExplorer(root, { figures, options = {} }) {
  const opt = { ...DEFAULTS, ...options };
  const LATENT_DIMS = figures.latent_dim, IMAGE_SIZE = figures.image_size, framing = figures.framing;
  const $ = q => root.querySelector(q);
  const palette = figures.palette;
  const clipId = `explorer-clip-${++instances}`;
  // Cross-part updates: 'latent' (z, previous z), 'model' (name), 'inputs' ()
  const bus = d3.dispatch('latent', 'model', 'inputs');

  const inputs = figures.inputs.map(d => ({ ...d, pixels: fromBase64(d.pixels) }));
  const selected = new Map();                    // input id -> line colour
  let model = 'vae';
  let z = [...figures.models.vae.random.mean];
  let nets = null, frame = 0, drawings = 0, currentDrawing = null;

  root.classList.add('explorer');
  root.innerHTML = MARKUP;
  $('.ex-decoded').width = $('.ex-decoded').height = IMAGE_SIZE;
  root.dataset.model = model;
  const svg = d3.select($('.ex-plot'));
  const decodedCanvas = $('.ex-decoded');
  const axes = () => figures.models[model].axes;
  const clamp = (i, v, m = model) => {
    const [lo, hi] = figures.models[m].axes[i].range;
    return Math.min(hi, Math.max(lo, v));
  };

  // ---- state changes (everything goes through these) ----
  function setLatent(values) {
    const next = values.map((v, i) => (Number.isFinite(+v) ? clamp(i, +v) : z[i]));
    if (next.every((v, i) => v === z[i])) return;
    const previous = z;
    z = next;
    bus.call('latent', null, z, previous);
  }
  function setModel(name) {
    if (name === model) return;
    model = name;
    root.dataset.model = name;
    bus.call('model', null, name);
    setLatent(z);                                // clamp into the new axis ranges
  }
  function toggle(input, on = !selected.has(input.id)) {
    if (on && !selected.has(input.id)) {
      const used = new Set(selected.values());
      const colour = palette.inputs.find(c => !used.has(c)) ??
        palette.inputs[selected.size % palette.inputs.length];
      selected.set(input.id, colour);
    } else if (!on) {
      selected.delete(input.id);
    }
    bus.call('inputs');
  }
  const snap = input => setLatent(input.codes[model]);

  // ---- input panel ----
  function renderThumbs() {
    for (const [cls, keep] of [['.ex-digits', d => d.kind === 'digit'], ['.ex-ood', d => d.kind === 'ood'],
      ['.ex-drawn', d => d.kind === 'drawn']]) {
      d3.select($(cls)).selectAll('button')
        .data(inputs.filter(keep), d => d.id)
        .join(enter => {
          const b = enter.append('button').attr('type', 'button').attr('class', 'ex-thumb')
            .attr('aria-label', d => `Input: ${d.name}`).attr('title', d => d.name)
            .on('click', (event, d) => toggle(d));
          b.append('canvas').attr('width', IMAGE_SIZE).attr('height', IMAGE_SIZE);
          return b;
        })
        .attr('aria-pressed', d => String(selected.has(d.id)))
        .style('--line', d => selected.get(d.id) ?? null)
        .each(function (d) { paint(this.firstChild, d.pixels); });
    }
  }
  bus.on('inputs.thumbs', renderThumbs);

  // ---- the parallel coordinates ----
  const gViolins = svg.append('g').attr('class', 'ex-violins');
  const gAxes = svg.append('g').attr('class', 'ex-axes');
  const gTracks = svg.append('g').attr('class', 'ex-tracks');
  const clip = svg.append('clipPath').attr('id', clipId).append('rect');
  const gOther = svg.append('g').attr('class', 'ex-lines ex-inactive').attr('clip-path', `url(#${clipId})`);
  const gLines = svg.append('g').attr('class', 'ex-lines').attr('clip-path', `url(#${clipId})`);
  const reconPath = svg.append('path').attr('class', 'ex-recon').attr('stroke', palette.reconstruction);
  const gHandles = svg.append('g').attr('class', 'ex-handles');
  let x = d3.scalePoint(), y = [], height = opt.height[1];

  function layout() {
    const width = svg.node().getBoundingClientRect().width || 600;
    const { top, right, bottom, left } = opt.margin;
    height = Math.round(Math.min(opt.height[1], Math.max(opt.height[0], 0.8 * width)));
    svg.attr('viewBox', `0 0 ${width} ${height}`).attr('height', height);
    x = d3.scalePoint(d3.range(LATENT_DIMS), [left, width - right]).padding(0.5);
    y = axes().map(a => d3.scaleLinear(a.range, [height - bottom, top]));
    clip.attr('x', 0).attr('y', top).attr('width', width).attr('height', height - top - bottom);
    renderAxes();
    renderLines();
    renderRecon();
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
    gTracks.selectAll('rect').data(d3.range(LATENT_DIMS)).join('rect')
      .attr('x', i => x(i) - 14).attr('width', 28)
      .attr('y', opt.margin.top).attr('height', height - opt.margin.top - opt.margin.bottom)
      .call(drag(false));
  }

  const path = codes => d3.line()(codes.map((v, i) => [x(i), y[i](v)]));

  function renderLines() {
    const shown = inputs.filter(d => selected.has(d.id));
    const draw = (g, m, colour, data) => g.selectAll('g.ex-line').data(data, d => d.id)
      .join(enter => {
        const l = enter.append('g').attr('class', 'ex-line').attr('data-input-id', d => d.id);
        l.append('path').attr('class', 'ex-hit');
        l.append('path').attr('class', 'ex-stroke');
        l.append('title');
        return l;
      })
      .attr('data-model', m)
      .call(l => l.selectAll('path').attr('d', d => path(d.codes[m])))
      .call(l => l.select('.ex-stroke').attr('stroke', colour))
      .call(l => l.select('title').text(d => `${d.name} (${LABEL[m]}); double-click to decode it`))
      .on('dblclick', (event, d) => { event.preventDefault(); snap(d); });
    draw(gLines, model, d => selected.get(d.id), shown);
    draw(gOther, OTHER[model], palette.inactive, model === 'ae' ? shown : []);  // VAE lines greyed in AE view
    renderLegend(shown);
  }
  bus.on('inputs.lines', renderLines);

  function renderLegend(shown) {
    d3.select($('.ex-legend')).selectAll('li').data(shown, d => d.id)
      .join(enter => {
        const li = enter.append('li');
        li.append('span').attr('class', 'ex-swatch');
        li.append('span').attr('class', 'ex-name').text(d => d.name);
        li.append('button').attr('type', 'button').attr('class', 'ex-use').text('decode')
          .attr('aria-label', d => `Decode ${d.name}`).on('click', (event, d) => snap(d));
        return li;
      })
      .style('--line', d => selected.get(d.id));
  }

  function renderRecon() {
    reconPath.attr('d', d3.line()(z.map((v, i) => [x(i), y[i](v)])));
    const a = axes();
    const h = gHandles.selectAll('g').data(d3.range(LATENT_DIMS)).join(enter => {
      const g = enter.append('g').attr('class', 'ex-handle');
      g.append('circle').attr('r', 7).attr('tabindex', 0).attr('role', 'slider')
        .attr('aria-orientation', 'vertical').attr('aria-label', i => `Latent ${i + 1}`)
        .on('keydown', onKey)
        .call(drag(true));
      g.append('text').attr('dy', '-0.7em');
      return g;
    });
    h.attr('transform', i => `translate(${x(i)},${y[i](z[i])})`);
    h.select('circle')
      .attr('aria-valuemin', i => a[i].range[0]).attr('aria-valuemax', i => a[i].range[1])
      .attr('aria-valuenow', i => String(z[i])).attr('aria-valuetext', i => fmt(z[i]));
    h.select('text').text(i => fmt(z[i]))                   // the last axis labels to its left
      .attr('x', i => (i < LATENT_DIMS - 1 ? 8 : -8)).attr('text-anchor', i => (i < LATENT_DIMS - 1 ? 'start' : 'end'));
  }
  bus.on('latent.plot', renderRecon);
  bus.on('model.plot', layout);

  // Dragging axis i's black point: grabbed on the point (no jump) or anywhere on the axis.
  function drag(onPoint) {
    return d3.drag()
      .container(svg.node())
      .subject((event, i) => (onPoint ? { x: x(i), y: y[i](z[i]), i } : { x: event.x, y: event.y, i }))
      .on('start drag', event => {
        const { i } = event.subject, next = [...z];
        next[i] = y[i].invert(event.y);
        setLatent(next);
      });
  }

  function onKey(event, i) {
    const v = z[i], [lo, hi] = axes()[i].range, span = hi - lo;
    const moves = { ArrowUp: opt.step, ArrowRight: opt.step, ArrowDown: -opt.step, ArrowLeft: -opt.step,
      PageUp: opt.bigStep, PageDown: -opt.bigStep };
    let value;
    if (event.key in moves) value = v + moves[event.key] * span;
    else if (event.key === 'Home') value = lo;
    else if (event.key === 'End') value = hi;
    else return;
    event.preventDefault();
    const next = [...z];
    next[i] = value;
    setLatent(next);
  }

  // ---- decoded output ----
  function requestDecode() {
    if (!nets || frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      const p = decode(nets[model].decoder, z);
      if (!p.every(Number.isFinite)) return;
      paint(decodedCanvas, Array.from(p, v => Math.round(255 * v)));
      root.dataset.ready = 'true';
    });
  }
  function renderCaption() {
    decodedCanvas.setAttribute('aria-label', `${LABEL[model]} decoded image`);
    $('.ex-caption').innerHTML = `What the <b>${LABEL[model]}</b>’s decoder makes of the black line`;
  }
  bus.on('latent.output', requestDecode);
  bus.on('model.output', () => { renderCaption(); requestDecode(); });

  // ---- controls ----
  $('.ex-show-ae').addEventListener('change', e => setModel(e.target.checked ? 'ae' : 'vae'));
  $('.ex-random').addEventListener('click', () => {
    const { mean, std } = figures.models[model].random;
    setLatent(mean.map((m, i) => m + std[i] * gauss()));
  });

  // ---- draw your own ----
  const pad = $('.ex-pad');
  pad.width = pad.height = framing.drawing_size;
  const pen = pad.getContext('2d', { willReadFrequently: true });
  let stroke = null;
  const at = e => {
    const r = pad.getBoundingClientRect();
    return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
  };
  pad.addEventListener('pointerdown', e => {
    if (e.pointerType === 'mouse' && e.button !== 0) return;
    e.preventDefault();
    pad.setPointerCapture(e.pointerId);
    stroke = e.pointerId;
    root.classList.add('ex-inked');
    Object.assign(pen, { lineWidth: framing.pen, lineCap: 'round', lineJoin: 'round', strokeStyle: '#000' });
    pen.beginPath();
    pen.moveTo(...at(e));
    pen.lineTo(...at(e));
    pen.stroke();
  });
  pad.addEventListener('pointermove', e => {
    if (stroke !== e.pointerId) return;
    for (const p of e.getCoalescedEvents?.() ?? [e]) pen.lineTo(...at(p));
    pen.stroke();
  });
  const endStroke = e => {
    if (stroke !== e.pointerId) return;
    stroke = null;
    addDrawing();
  };
  pad.addEventListener('pointerup', endStroke);
  pad.addEventListener('pointercancel', endStroke);
  $('.ex-clear').addEventListener('click', () => {
    pen.clearRect(0, 0, pad.width, pad.height);
    root.classList.remove('ex-inked');
    currentDrawing = null;                       // the next stroke starts a new drawing
  });

  // The drawing so far, framed and encoded by both encoders, as an input (new or updated).
  function addDrawing() {
    if (!nets) return;                           // drawn before the models arrived: done on load
    const rgba = pen.getImageData(0, 0, pad.width, pad.height).data;
    const ink = new Uint8ClampedArray(rgba.length / 4).map((_, k) => rgba[4 * k + 3]);
    const pixels = frameLikeMnist(ink, pad.width, pad.height, { ...framing, image_size: IMAGE_SIZE });
    if (!pixels) return;
    const floats = Float32Array.from(pixels, v => v / 255);
    const codes = { ae: Array.from(encode(nets.ae.encoder, floats)), vae: Array.from(encode(nets.vae.encoder, floats)) };
    if (!codes.ae.concat(codes.vae).every(Number.isFinite)) return;
    if (!currentDrawing) {
      currentDrawing = { id: `drawing-${++drawings}`, name: `drawing ${drawings}`, kind: 'drawn' };
      inputs.push(currentDrawing);
    }
    Object.assign(currentDrawing, { pixels, codes });
    toggle(currentDrawing, true);
    snap(currentDrawing);
  }

  // ---- start ----
  const resizer = new ResizeObserver(() => layout());
  resizer.observe($('.ex-main'));
  renderCaption();
  renderThumbs();
  layout();
  if (inputs.length) { toggle(inputs[0], true); snap(inputs[0]); }
  $('.ex-message').textContent = 'Loading the models…';
  loadModels().then(loaded => {
    nets = loaded;
    $('.ex-message').textContent = '';
    requestDecode();
    addDrawing();
  }).catch(err => {
    console.warn('latent explorer: models not loaded', err);
    root.dataset.error = 'true';
    $('.ex-message').textContent = 'The models could not be loaded, so the decoded image cannot be shown. ' +
      'The explorer needs WebAssembly or plain JavaScript and the page served over HTTP.';
  });
  return { on: (type, fn) => bus.on(type, fn) };
}
