// Images as the page handles them: 32x32 grey values, white ink on black as the networks
// see them, painted black on white for the reader. No DOM except in paint().

/** Base64 of image bytes -> Uint8Array. */
export function fromBase64(text) {
  return Uint8Array.from(atob(text), c => c.charCodeAt(0));
}

/**
 * Paints grey values (white ink on black) black on white into a canvas of the image's
 * size; values in [0, 1] (a decoder's output) or bytes (scale 255).
 */
export function paint(canvas, values, scale = 1) {
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(canvas.width, canvas.height);
  for (let k = 0; k < canvas.width * canvas.height; k++) {
    const v = Math.round((255 * values[k]) / scale);
    img.data.fill(255 - v, 4 * k, 4 * k + 3);
    img.data[4 * k + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/**
 * Binary cross-entropy of a decoder's output against an image, in nats, summed over the
 * central mnist_size x mnist_size pixels (the padding left out), as the build measures it.
 * @param {ArrayLike<number>} target bytes 0..255 of the image
 * @param {ArrayLike<number>} probs the decoder's intensities in [0, 1]
 */
export function crossEntropy(target, probs, imageSize, mnistSize) {
  const pad = (imageSize - mnistSize) / 2, eps = 1e-7;
  let sum = 0;
  for (let y = pad; y < imageSize - pad; y++) {
    for (let x = pad; x < imageSize - pad; x++) {
      const k = y * imageSize + x, t = target[k] / 255;
      const p = Math.min(1 - eps, Math.max(eps, probs[k]));
      sum -= t * Math.log(p) + (1 - t) * Math.log(1 - p);
    }
  }
  return sum;
}

/** A standard normal sample (Box-Muller); `random` defaults to Math.random. */
export function gauss(random = Math.random) {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** A digit with its indefinite article, as the judge's readings put it: "a 7", "an 8". */
export function aDigit(digit) {
  return `${digit === 8 ? 'an' : 'a'} ${digit}`;
}
