// The latent space from above: every training code of the AE and of the VAE, projected
// to 2-D with PCA, drawn side by side at one scale and coloured by digit. A legend of
// buttons highlights one class (hover, keyboard focus, or click to keep it).
// Needs the global `d3` (lib/d3.min.js).

const DEFAULTS = {
  radius: 1.2,                                   // point size in CSS px (a square of 2r)
  alpha: 0.5,                                    // opacity of every point
  fadedAlpha: 0.12,                              // opacity of the other classes while one is highlighted
  margin: { top: 6, right: 8, bottom: 24, left: 34 },
  ticks: 4,
};
const TITLE = { ae: 'Autoencoder (AE)', vae: 'Variational autoencoder (VAE)' };

/**
 * Decodes data/pca.bin (format in training/figures.py).
 * @param {{count: number, levels: number, extent: number[], models: string[]}} summary figures.pca
 * @param {ArrayBuffer} buffer
 * @returns {{points: Object<string, Float32Array>, labels: Uint8Array}} points: x/y interleaved, length 2N
 */
export function decodePca(summary, buffer) {
  const { count: n, levels, extent: [lo, hi], models } = summary;
  const view = new DataView(buffer);
  const scale = (hi - lo) / (levels - 1);
  const points = {};
  models.forEach((name, m) => {
    const xy = new Float32Array(2 * n);
    for (let i = 0; i < 2 * n; i++) xy[i] = lo + view.getUint16(2 * (m * 2 * n + i), true) * scale;
    points[name] = xy;
  });
  return { points, labels: new Uint8Array(buffer, 4 * n * models.length, n) };
}

/**
 * Builds both scatter plots and the legend inside `root`.
 * @param {HTMLElement} root
 * @param {{figures: object, pca: ArrayBuffer, options?: object}} args figures: data/figures.json
 * @returns {{highlight: (digit: number|null) => void}}
 */
export function createScatter(root, { figures, pca, options = {} }) {
  const opt = { ...DEFAULTS, ...options };
  const { points, labels } = decodePca(figures.pca, pca);
  const colours = figures.palette.digits;
  const inactive = figures.palette.inactive;
  const extent = figures.pca.extent;
  let hovered = null, pinned = null;

  root.replaceChildren();
  const panels = d3.select(root).append('div').attr('class', 'scatter-panels');
  const plots = figures.pca.models.map(name => {
    const panel = panels.append('figure').attr('class', 'scatter-panel');
    panel.append('h3').text(TITLE[name] || name);
    const box = panel.append('div').attr('class', 'scatter-plot');
    const svg = box.append('svg').attr('aria-hidden', 'true');
    const canvas = box.append('canvas')
      .attr('class', 'scatter-canvas').attr('data-model', name).attr('role', 'img')
      .attr('aria-label', `${TITLE[name] || name}: ${figures.pca.count} training codes, projected to two dimensions`);
    return { name, box: box.node(), svg, canvas: canvas.node(), width: 0 };
  });

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
    if (!w) return false;
    const { top, right, bottom, left } = opt.margin;
    const size = Math.max(10, Math.min(w - left - right, w - top - bottom));
    plot.x = d3.scaleLinear(extent, [left, left + size]);
    plot.y = d3.scaleLinear(extent, [top + size, top]);
    plot.width = w;
    const dpr = window.devicePixelRatio || 1;
    plot.canvas.width = Math.round(w * dpr);
    plot.canvas.height = Math.round(w * dpr);
    plot.svg.attr('viewBox', `0 0 ${w} ${w}`);
    plot.svg.selectAll('*').remove();
    const fmt = d3.format('~g');
    plot.svg.append('g').attr('transform', `translate(0,${top + size})`)
      .call(d3.axisBottom(plot.x).ticks(opt.ticks).tickFormat(fmt).tickSizeOuter(0));
    plot.svg.append('g').attr('transform', `translate(${left},0)`)
      .call(d3.axisLeft(plot.y).ticks(opt.ticks).tickFormat(fmt).tickSizeOuter(0));
    plot.svg.append('path').attr('class', 'origin')
      .attr('d', `M${plot.x(0)},${top}V${top + size}M${left},${plot.y(0)}H${left + size}`);
    return true;
  }

  function draw(plot, focus) {
    const ctx = plot.canvas.getContext('2d');
    const dpr = plot.canvas.width / plot.width;
    const xy = points[plot.name];
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
    for (const plot of plots) if (plot.width) draw(plot, focus);
  }

  const resize = () => { for (const plot of plots) layout(plot); redraw(); };
  new ResizeObserver(resize).observe(root);
  resize();
  root.dataset.ready = 'true';
  return { highlight(digit) { pinned = digit; redraw(); } };
}
