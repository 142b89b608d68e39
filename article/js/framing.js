// Frames a drawing the way MNIST framed its digits, in the same steps and sizes as
// training/inputs.py (frame_like_mnist), so that a reader's drawing reaches the encoders
// as the build's own inputs did. No DOM and no globals: tested in Node against Python.

const roundHalfEven = x => {                    // Python's round()
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 ? r - 1 : r;
};
const sinc = x => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));
const lanczos = x => (x > -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0);

/** Lanczos-3 resampling weights from `n` to `m` samples, antialiased like PIL's resize. */
function weights(n, m) {
  const scale = n / m, fs = Math.max(scale, 1), support = 3 * fs;
  return Array.from({ length: m }, (_, i) => {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(centre - support + 0.5));
    const hi = Math.min(n, Math.trunc(centre + support + 0.5));
    const w = Array.from({ length: hi - lo }, (_, j) => lo + j).map(x => lanczos((x - centre + 0.5) / fs));
    const sum = w.reduce((a, b) => a + b, 0) || 1;
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
 * of the 28x28 field, zero-padded to 32x32. The sizes come from the build (data/figure-data.json).
 * @param {Uint8ClampedArray} ink (h*w) ink bytes, 0..255
 * @param {{image_size: number, mnist_size: number, box: number, ink: number}} sizes
 * @returns {Uint8Array|null} image_size**2 bytes, white ink on black; null for an empty drawing
 */
export function frameLikeMnist(ink, w, h, { image_size: IMAGE_SIZE, mnist_size: MNIST_SIZE, box: BOX, ink: INK }) {
  const PAD = (IMAGE_SIZE - MNIST_SIZE) / 2;
  let x0 = w, x1 = -1, y0 = h, y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (ink[y * w + x] > INK * 255) {
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

