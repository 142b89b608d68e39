// The figure "watch them learn": TF.js trains the page's models (figures/train/trainer.js)
// from the same initial weights on the same batches and noise as the build's PyTorch run
// (figures/train/data.py), and the first steps' losses must match the build's record.
// Tolerance: 1e-3 relative (absolute for losses under 1, such as the first steps' KL).
// Both sides compute in float32 but add up 784 pixels, 128 units and 50 digits in other
// orders, so a loss differs in its 7th digit; Adam (the same update on both sides) carries
// that into the next steps' weights. The five steps stayed within 3e-6 relative when this
// was written; a wrong weight, batch, noise draw or loss term is off by far more at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SITE, siteData } from './setup.mjs';
import { createModel, normals, order, uniforms } from '../../figures/train/trainer.js';

const TOLERANCE = 1e-3;

test('mulberry32 draws, orders and normals are the ones data.py makes', () => {
  // values computed by figures/train/data.py's uniforms, order and normals
  assert.deepEqual(Array.from(uniforms(12345, 3)), [0.9797282677609473, 0.3067522644996643, 0.484205421525985]);
  assert.deepEqual(Array.from(order(3, 10)), [9, 5, 6, 1, 2, 4, 8, 3, 0, 7]);
  assert.deepEqual(Array.from(normals(7, 2)), [0.1419704407453537, -0.864253044128418]);
});

test('TF.js training matches the build\'s PyTorch losses step by step', { skip: !SITE && 'needs SITE, a built site' }, () => {
  const spec = siteData().train;
  const bytes = readFileSync(join(SITE, spec.file));
  const x = tf.tidy(() => tf.div(tf.tensor2d(new Uint8Array(bytes.buffer, bytes.byteOffset, spec.n * 784),
    [spec.n, 784], 'float32'), 255));
  for (const [name, variational, beta] of [['ae', false, 0], ['vae', true, spec.beta]]) {
    const want = spec.parity[name], model = createModel(spec, variational, beta);
    const got = model.trainEpoch(x, want.length).steps;
    want.forEach((w, k) => {
      for (const key of ['recon', 'kl']) {
        const diff = Math.abs(got[k][key] - w[key]) / Math.max(1, Math.abs(w[key]));
        assert.ok(diff <= TOLERANCE, `${name} step ${k + 1} ${key}: TF.js ${got[k][key]}, PyTorch ${w[key]}`);
      }
    });
    model.dispose();
  }
  x.dispose();
});
