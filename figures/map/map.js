// The latent space from above: every training code of each model projected onto that
// model's first two principal components, coloured by digit, each map at its own scale, and
// each digit's label at the centre of its codes (the build's median, data.models[m].pca.centres).
// The explorer's current code is marked in the map of the model shown ("Current code"),
// selected inputs are rings in their line colours, and the map is an input too: click or
// drag to set the code to that point of the plane, hover to see what decodes there, or
// focus a map and use the arrow keys. A finger taps a point or drags the marker; a swipe
// anywhere else scrolls the page. The points load when the figure comes near view.
// Needs the global `d3`.
import { decodePca, project, unproject } from './pca.js';
import { decode } from './models.js';
import { paint } from './digits.js';

const DEFAULTS = {
  radius: 1.2,                                   // point size in CSS px (a square of 2r)
  alpha: 0.5,                                    // opacity of every point
  fadedAlpha: 0.12,                              // opacity of the other classes while one is highlighted
  margin: { top: 6, right: 8, bottom: 24, left: 34 },
  ticks: 4,
  keyStep: 0.02,                                 // arrow-key step, as a fraction of the map's width
  nearView: '600px',                             // start loading the points this far from view
  labelGap: 15,                                  // digits' labels closer than this (px) are pushed apart
};

/** Screen points moved apart until no two are closer than `gap` px (each pair pushed apart along
 * the line between them, a few rounds): labels whose centres nearly coincide both stay legible. */
function spread(points, gap, rounds = 20) {
  const p = points.map(q => [...q]);
  for (let r = 0; r < rounds; r++) {
    let moved = false;
    for (let i = 0; i < p.length; i++) for (let j = i + 1; j < p.length; j++) {
      const dx = p[j][0] - p[i][0], dy = p[j][1] - p[i][1], d = Math.hypot(dx, dy);
      if (d >= gap) continue;
      const [ux, uy] = d > 1e-6 ? [dx / d, dy / d] : [0, 1], push = (gap - d) / 2;
      p[i][0] -= ux * push; p[i][1] -= uy * push; p[j][0] += ux * push; p[j][1] += uy * push;
      moved = true;
    }
    if (!moved) break;
  }
  return p;
}

/**
 * @param {HTMLElement} root
 * @param {{state, data, nets, loadPoints: () => Promise<ArrayBuffer>, switchModel}} app
 */
export function createMap(root, app, options = {}) {
  const opt = { ...DEFAULTS, ...options };
  const { state, data, nets } = app;
  const colours = data.palette.digits, inactive = data.palette.inactive;
  let points = null, labels = null, hovered = null, pinned = null;

  root.replaceChildren();
  root.classList.add('map');
  const panels = d3.select(root).append('div').attr('class', 'scatter-panels');
  const plots = data.model_order.map(name => {
    const { title, label, pca } = data.models[name];
    const panel = panels.append('figure').attr('class', 'scatter-panel').attr('data-model', name);
    panel.append('h3').text(title);
    const box = panel.append('div').attr('class', 'scatter-plot');
    const canvas = box.append('canvas').attr('class', 'scatter-canvas').attr('data-model', name)
      .attr('role', 'img').attr('aria-label', `${title}: training codes projected to two dimensions`);
    const svg = box.append('svg').attr('class', 'scatter-overlay').attr('tabindex', 0)
      .attr('role', 'application').attr('aria-roledescription', 'map')
      .attr('aria-label', `Map of the ${label}'s codes: click, drag or use the arrow keys to move the current code`);
    const axes = svg.append('g');
    const names = svg.append('g').attr('class', 'map-labels').attr('aria-hidden', 'true')   // the legend says it
      .selectAll('text').data(pca.centres).join('text').text((c, d) => d);
    const rings = svg.append('g').attr('class', 'map-rings');
    const marker = svg.append('circle').attr('class', 'map-marker').attr('r', 6)
      .attr('role', 'img').attr('aria-label', 'Current code');
    const grip = svg.append('circle').attr('class', 'map-grip').attr('r', 22)   // a finger-sized handle
      .on('touchstart', event => event.preventDefault(), { passive: false });  // a drag, not a scroll
    return { name, pca, box: box.node(), svg, canvas: canvas.node(), axes, names, rings, marker, grip, width: 0 };
  });
  const away = d3.select(root).append('p').attr('class', 'map-away').attr('role', 'status');
  const peek = d3.select(root).append('canvas').attr('class', 'map-peek').attr('aria-hidden', 'true')
    .attr('width', data.image_size).attr('height', data.image_size).node();
  peek.hidden = true;

  const legend = d3.select(root).append('ul').attr('class', 'scatter-legend')
    .attr('aria-label', 'Highlight one digit');
  const buttons = legend.selectAll('li').data(d3.range(colours.length)).join('li')
    .append('button').attr('type', 'button').attr('aria-pressed', 'false')
    .attr('aria-label', d => `Highlight digit ${d}`)
    .on('pointerenter focus', (event, d) => { hovered = d; redraw(); })
    .on('pointerleave blur', () => { hovered = null; redraw(); })
    .on('click', (event, d) => { pinned = pinned === d ? null : d; redraw(); });
  buttons.append('span').attr('class', 'swatch').style('background', d => colours[d]);
  buttons.append('span').text(d => d);

  function layout(plot) {
    const w = plot.box.clientWidth;
    if (!w) return;
    const { top, right, bottom, left } = opt.margin;
    const size = Math.max(10, Math.min(w - left - right, w - top - bottom));
    const [ex, ey] = plot.pca.extent;
    plot.x = d3.scaleLinear(ex, [left, left + size]);
    plot.y = d3.scaleLinear(ey, [top + size, top]);
    plot.width = w;
    const dpr = window.devicePixelRatio || 1;
    plot.canvas.width = plot.canvas.height = Math.round(w * dpr);
    plot.svg.attr('viewBox', `0 0 ${w} ${w}`);
    plot.axes.selectAll('*').remove();
    const fmt = d3.format('~g');
    plot.axes.append('g').attr('transform', `translate(0,${top + size})`)
      .call(d3.axisBottom(plot.x).ticks(opt.ticks).tickFormat(fmt).tickSizeOuter(0));
    plot.axes.append('g').attr('transform', `translate(${left},0)`)
      .call(d3.axisLeft(plot.y).ticks(opt.ticks).tickFormat(fmt).tickSizeOuter(0));
    plot.at = spread(plot.pca.centres.map(([cx, cy]) => [plot.x(cx), plot.y(cy)]), opt.labelGap);
    plot.names.attr('x', (c, d) => plot.at[d][0]).attr('y', (c, d) => plot.at[d][1]);
  }

  function draw(plot, focus) {
    const ctx = plot.canvas.getContext('2d');
    const dpr = plot.canvas.width / plot.width, xy = points[plot.name];
    const r = opt.radius, d = 2 * r;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, plot.width, plot.width);
    const pass = (alpha, keep, colourOf) => {
      ctx.globalAlpha = alpha;
      let last = null;
      for (let i = 0; i < labels.length; i++) {
        if (!keep(labels[i])) continue;
        const c = colourOf(labels[i]);
        if (c !== last) { ctx.fillStyle = c; last = c; }
        ctx.fillRect(plot.x(xy[2 * i]) - r, plot.y(xy[2 * i + 1]) - r, d, d);
      }
    };
    if (focus === null) {
      pass(opt.alpha, () => true, l => colours[l]);
    } else {
      pass(opt.fadedAlpha, l => l !== focus, () => inactive);
      pass(Math.min(1, opt.alpha * 1.6), l => l === focus, l => colours[l]);
    }
  }

  function redraw() {
    const focus = hovered ?? pinned;
    buttons.attr('aria-pressed', d => String(d === pinned));
    root.dataset.highlight = focus ?? '';
    for (const plot of plots) plot.names.classed('faded', (c, d) => focus !== null && d !== focus);
    if (points) for (const plot of plots) if (plot.width) draw(plot, focus);
  }

  // ---- linked to the explorer: the current code and the selected inputs ----
  function renderMarks() {
    const mapped = plots.some(plot => plot.name === state.model);
    away.text(mapped ? '' : `The explorer shows the ${data.models[state.model].label}, which has no map; ` +
      'the rings still mark the selected inputs in the two models above.');
    for (const plot of plots) {
      if (!plot.width) continue;
      const here = project(state.z, plot.pca), [mx, my] = [plot.x(here[0]), plot.y(here[1])];
      plot.names.classed('under', (c, d) => plot.name === state.model &&      // the ring is not read as a digit
        Math.hypot(plot.at[d][0] - mx, plot.at[d][1] - my) < opt.labelGap);
      plot.marker.attr('cx', mx).attr('cy', my)
        .attr('data-x', here[0]).attr('data-y', here[1])
        .style('display', plot.name === state.model ? null : 'none');
      plot.grip.attr('cx', mx).attr('cy', my)
        .style('display', plot.name === state.model ? null : 'none');
      plot.rings.selectAll('circle').data(state.selected, s => s.id).join('circle')
        .attr('r', 5).attr('stroke', s => s.colour)
        .attr('transform', s => {
          const [px, py] = project(state.input(s.id).codes[plot.name], plot.pca);
          return `translate(${plot.x(px)},${plot.y(py)})`;
        });
    }
  }

  // ---- roaming: the map sets the code ----
  async function moveTo(plot, xy) {
    const z = unproject(xy, plot.pca);
    if (plot.name !== state.model) await app.switchModel(plot.name, z);
    else state.setLatent(z, 'map');
  }
  let peekFrame = 0;
  function showPeek(plot, event) {
    const xy = at(plot, event);
    cancelAnimationFrame(peekFrame);
    peekFrame = requestAnimationFrame(() => {
      const net = nets.now(`${plot.name}-decoder`);
      if (!net) return;
      paint(peek, decode(net, unproject(xy, plot.pca)));
      const box = root.getBoundingClientRect();
      peek.style.left = `${event.clientX - box.left + 14}px`;
      peek.style.top = `${event.clientY - box.top + 14}px`;
      peek.hidden = false;
    });
  }
  /** The plane's point under a pointer event, less the offset of a grab. */
  function at(plot, event, offset = [0, 0]) {
    const [px, py] = d3.pointer(event, plot.svg.node());
    return [plot.x.invert(px + offset[0]), plot.y.invert(py + offset[1])];
  }
  // Pointer events, one path for mouse, pen and touch: a mouse or pen button, or a finger on
  // the marker's grip, drags (the grip without a jump); a finger elsewhere only taps, and
  // the browser scrolls when it moves (touch-action in the stylesheet). One pointer at a time.
  let grab = null, tap = null;                    // {id, plot, offset}; {id, x, y}
  const TAP = 10;                                 // px a tap may move
  function release(event) {
    if (grab?.id === event.pointerId) grab = null;
    if (tap?.id !== event.pointerId) return;
    const { plot, x, y } = tap;
    tap = null;
    if (event.type === 'pointerup' && Math.hypot(event.clientX - x, event.clientY - y) <= TAP) moveTo(plot, at(plot, event));
  }
  for (const plot of plots) {
    plot.svg
      .on('pointerdown', event => {
        if (!event.isPrimary || event.button !== 0 || grab) return;
        const onGrip = event.target === plot.grip.node();
        if (event.pointerType === 'touch' && !onGrip) {
          tap = { id: event.pointerId, plot, x: event.clientX, y: event.clientY };
          return;
        }
        event.preventDefault();
        plot.svg.attr('data-pointer', '');          // focus by pointer: no keyboard focus ring (map.css)
        plot.svg.node().focus({ preventScroll: true });
        plot.svg.node().setPointerCapture(event.pointerId);
        const [px, py] = d3.pointer(event, plot.svg.node());
        grab = { id: event.pointerId, offset: onGrip ? [+plot.grip.attr('cx') - px, +plot.grip.attr('cy') - py] : [0, 0] };
        moveTo(plot, at(plot, event, grab.offset));
      })
      .on('pointermove', event => {
        if (grab?.id === event.pointerId) moveTo(plot, at(plot, event, grab.offset));
        if (event.pointerType !== 'touch') showPeek(plot, event);
      })
      .on('pointerup pointercancel lostpointercapture', release)
      .on('pointerleave', () => { cancelAnimationFrame(peekFrame); peek.hidden = true; })
      .on('blur', () => plot.svg.attr('data-pointer', null))
      .on('keydown', event => {
        plot.svg.attr('data-pointer', null);
        const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
        if (!(event.key in moves)) return;
        event.preventDefault();
        const [ex, ey] = plot.pca.extent, here = project(state.z, plot.pca);
        const [dx, dy] = moves[event.key];
        const xy = plot.name === state.model
          ? [here[0] + dx * opt.keyStep * (ex[1] - ex[0]), here[1] + dy * opt.keyStep * (ey[1] - ey[0])]
          : [(ex[0] + ex[1]) / 2, (ey[0] + ey[1]) / 2];
        moveTo(plot, xy);
      });
  }

  const resize = () => { for (const plot of plots) layout(plot); redraw(); renderMarks(); };
  new ResizeObserver(resize).observe(root);
  resize();
  state.on('latent.map', renderMarks).on('model.map', renderMarks).on('inputs.map', renderMarks);

  // the map's points (data/pca.bin), once the figure comes near view
  const near = new IntersectionObserver(entries => {
    if (!entries.some(e => e.isIntersecting)) return;
    near.disconnect();
    app.loadPoints().then(buffer => {
      ({ points, labels } = decodePca(data.pca, data.models, buffer));
      redraw();
      root.dataset.ready = 'true';
    }, error => {
      console.warn('map:', error);
      root.dataset.error = 'true';
      const note = root.appendChild(document.createElement('p'));
      note.className = 'figure-error';
      note.textContent = `The training codes could not be loaded (${error.message}); the maps show only the current code.`;
    });
  }, { rootMargin: opt.nearView });
  near.observe(root);
  return { highlight(digit) { pinned = digit; redraw(); } };
}

export default createMap;   // the figure's view: started by main.js in its data-view element
