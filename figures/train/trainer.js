// The page's two tiny models and their training, exactly as figures/train/data.py trains
// them in PyTorch: dense 784-128-2 encoders (the VAE's with a log-variance head too) and
// 2-128-784 decoders, initial weights, batch orders and the VAE's noise all drawn from
// mulberry32 (a counter-based generator both sides compute bit for bit), Adam, and the
// per-digit losses in nats: summed binary cross-entropy, and for the VAE the KL to N(0, I).
// Needs the global `tf` (TF.js core and a backend). Used by the worker and the Node test.

/** The first n draws in [0, 1) of mulberry32 seeded with `seed`. */
export function uniforms(seed, n) {
  const out = new Float64Array(n);
  let a = seed >>> 0;
  for (let k = 0; k < n; k++) {
    a = (a + 0x6D2B79F5) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t = (t + Math.imul(t ^ (t >>> 7), t | 61)) ^ t;
    out[k] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}

/** n standard normal draws by Box-Muller on pairs of uniforms. */
export function normals(seed, n) {
  const u = uniforms(seed, 2 * n), out = new Float32Array(n);
  for (let k = 0; k < n; k++) out[k] = Math.sqrt(-2 * Math.log(1 - u[2 * k])) * Math.cos(2 * Math.PI * u[2 * k + 1]);
  return out;
}

/** A permutation of 0..n-1 by Fisher-Yates on mulberry32's draws. */
export function order(seed, n) {
  const u = uniforms(seed, n), p = Int32Array.from({ length: n }, (_, k) => k);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u[n - 1 - i] * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** Both models' initial weights, {name: Float32Array}, from spec.layers [name, shape, fanIn]. */
export function initial(spec) {
  const sizes = spec.layers.map(([, shape]) => shape.reduce((a, b) => a * b, 1));
  const u = uniforms(spec.seeds.init, sizes.reduce((a, b) => a + b, 0));
  const out = {};
  let at = 0;
  spec.layers.forEach(([name, , fanIn], k) => {
    out[name] = Float32Array.from(u.subarray(at, at + sizes[k]), v => (2 * v - 1) / Math.sqrt(fanIn));
    at += sizes[k];
  });
  return out;
}

/**
 * One model of the figure, ready to train from its seeded start.
 * @param {object} spec  the build's data.train (layers, seeds, batch, lr)
 * @param {boolean} variational
 * @param {number} beta  the weight of the KL term (VAE)
 */
export function createModel(spec, variational, beta = 0) {
  const init = initial(spec);
  const w = {};
  for (const [name, shape] of spec.layers) {
    if (variational || !name.startsWith('lv')) w[name] = tf.variable(tf.tensor(init[name], shape), true, undefined);
  }
  const optimizer = tf.train.adam(spec.lr, 0.9, 0.999, 1e-7);
  const encodeT = x => tf.tidy(() => {
    const h = tf.relu(tf.add(tf.matMul(x, w.enc_w), w.enc_b));
    return [tf.add(tf.matMul(h, w.mu_w), w.mu_b), variational ? tf.add(tf.matMul(h, w.lv_w), w.lv_b) : null];
  });
  const decodeT = z => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(z, w.dec_w1), w.dec_b1)), w.dec_w2), w.dec_b2);
  let epoch = 0;

  /** One step on a batch x (B, 784) with noise eps (B, 2): {recon, kl}, means per digit. */
  function step(x, eps) {
    let parts;
    const { value, grads } = tf.variableGrads(() => {
      const [mu, lv] = encodeT(x);
      const z = variational ? tf.add(mu, tf.mul(tf.exp(tf.mul(lv, 0.5)), eps)) : mu;
      const logits = decodeT(z);
      // binary cross-entropy with logits, stable: max(l, 0) - l x + log(1 + exp(-|l|))
      const bce = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, x)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
      const recon = tf.mean(tf.sum(bce, 1));
      const kl = variational
        ? tf.mean(tf.mul(tf.sum(tf.sub(tf.sub(tf.add(lv, 1), tf.square(mu)), tf.exp(lv)), 1), -0.5))
        : tf.scalar(0);
      parts = tf.keep(tf.stack([recon, kl]));
      return tf.add(recon, tf.mul(kl, beta));
    }, Object.values(w));
    optimizer.applyGradients(grads);
    value.dispose();
    tf.dispose(grads);
    const [recon, kl] = parts.dataSync();
    parts.dispose();
    return { recon, kl };
  }

  return {
    variational, beta,
    get epoch() { return epoch; },
    step,
    /** One epoch over x (N, 784 tensor): the means of its batches' losses, and each step's
     * (only the first `limit` steps, if given: for tests). */
    trainEpoch(x, limit = Infinity) {
      const n = x.shape[0], perm = order(spec.seeds.order + epoch, n);
      const noise = normals(spec.seeds.noise + epoch, n * 2);
      const steps = [];
      for (let b = 0; b + spec.batch <= n && steps.length < limit; b += spec.batch) {
        const idx = tf.tensor1d(perm.subarray(b, b + spec.batch), 'int32');
        const xb = tf.gather(x, idx);
        const eps = tf.tensor2d(noise.subarray(2 * b, 2 * (b + spec.batch)), [spec.batch, 2]);
        steps.push(step(xb, eps));
        tf.dispose([idx, xb, eps]);
      }
      epoch += 1;
      const mean = key => steps.reduce((s, v) => s + v[key], 0) / steps.length;
      return { epoch, recon: mean('recon'), kl: mean('kl'), steps };
    },
    /** Codes (the VAE's means) of x (M, 784) as a flat Float32Array. */
    encode(x) {
      const [mu, lv] = encodeT(x);
      const out = mu.dataSync().slice();
      tf.dispose([mu, lv]);
      return out;
    },
    /** Decoded images (probabilities) of codes z (K, 2), flat (K x 784). */
    decode(z) {
      const t = tf.tidy(() => tf.sigmoid(decodeT(tf.tensor2d(z, [z.length / 2, 2]))));
      const out = t.dataSync();
      t.dispose();
      return out;
    },
    dispose() {
      tf.dispose(Object.values(w));
      optimizer.dispose();
    },
  };
}
