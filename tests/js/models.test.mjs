// decode() and encode() (article/js/models.js) against PyTorch, and no tensor left behind.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FIXTURES, SITE, loadFolder } from './setup.mjs';
import { decode, encode } from '../../article/js/models.js';

test('the fused decode() gives what PyTorch gives, within 1e-5', { skip: !SITE }, async () => {
  for (const [name, { codes, images }] of Object.entries(FIXTURES.decode)) {
    const model = await loadFolder(join(SITE, 'models', `${name}-decoder`));
    const one = decode(model, codes[0]);                  // one code ...
    const all = decode(model, codes);                     // ... and a batch
    assert.equal(all.length, codes.length * images[0].length);
    images.forEach((want, k) => {
      const got = all.subarray(k * want.length, (k + 1) * want.length);
      const worst = Math.max(...want.map((v, i) => Math.abs(v - got[i])));
      assert.ok(worst <= 1e-5, `${name} code ${k}: off by ${worst}`);
    });
    assert.deepEqual(Array.from(one), Array.from(all.subarray(0, images[0].length)));
  }
});

test('encode() splits the VAE\'s output into mean and log-variance as PyTorch computes them', { skip: !SITE }, async () => {
  for (const [name, { image, mean, logvar }] of Object.entries(FIXTURES.encode)) {
    const model = await loadFolder(join(SITE, 'models', `${name}-encoder`));
    const got = encode(model, Float32Array.from(image), mean.length);
    mean.forEach((v, i) => assert.ok(Math.abs(got.mean[i] - v) < 1e-4, `${name} mean ${i}`));
    if (logvar) logvar.forEach((v, i) => assert.ok(Math.abs(got.logvar[i] - v) < 1e-4, `${name} logvar ${i}`));
    else assert.equal(got.logvar, null);
  }
});

test('1,000 decodes leave no tensor behind', { skip: !SITE }, async () => {
  const model = await loadFolder(join(SITE, 'models', 'vae-decoder'));
  decode(model, [0, 0, 0, 0]);                            // the first call builds the plan
  const before = tf.memory().numTensors;
  for (let k = 0; k < 1000; k++) decode(model, [k / 1000, -0.5, 0.25, 1]);
  assert.equal(tf.memory().numTensors, before);
});
