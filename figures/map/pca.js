// The maps' two dimensions: each model's codes projected onto its first two principal
// components. No DOM: tested in Node against the Python side (figures/map/data.py).

/**
 * Decodes data/pca.bin: per model, x/y of every point quantised to `levels` steps over that
 * model's own extents (little-endian uint16, models in order), then one label byte per point.
 * @param {{count: number, levels: number, models: string[]}} summary data.pca
 * @param {Object<string, {pca: {extent: number[][]}}>} models data.models
 * @param {ArrayBuffer} buffer
 * @returns {{points: Object<string, Float32Array>, labels: Uint8Array}} points: x/y interleaved
 */
export function decodePca(summary, models, buffer) {
  const { count: n, levels } = summary;
  const view = new DataView(buffer);
  const points = {};
  summary.models.forEach((name, m) => {
    const [[x0, x1], [y0, y1]] = models[name].pca.extent;
    const sx = (x1 - x0) / (levels - 1), sy = (y1 - y0) / (levels - 1);
    const xy = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      xy[2 * i] = x0 + view.getUint16(2 * (m * 2 * n + 2 * i), true) * sx;
      xy[2 * i + 1] = y0 + view.getUint16(2 * (m * 2 * n + 2 * i + 1), true) * sy;
    }
    points[name] = xy;
  });
  return { points, labels: new Uint8Array(buffer, 4 * n * summary.models.length, n) };
}

/** A code's place in the map: [(z - mean) . c1, (z - mean) . c2]. */
export function project(z, { mean, components }) {
  return components.map(c => c.reduce((s, ci, i) => s + ci * (z[i] - mean[i]), 0));
}

/** The code at a place in the map: mean + x c1 + y c2 (the other directions at the mean). */
export function unproject([x, y], { mean, components: [c1, c2] }) {
  return mean.map((m, i) => m + x * c1[i] + y * c2[i]);
}
