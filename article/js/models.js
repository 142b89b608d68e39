// The TF.js models and the calls the page makes: decoders and encoders of the AE and the
// VAE, and the judge (the build's digit classifier). Each is loaded once, when first
// asked for, and checked against a probe the build computed with PyTorch, so that a
// damaged file is named instead of silently drawing nonsense.
// Needs the global `tf` (the classic scripts in lib/: TF.js core, layers, cpu and wasm).

let backendReady = null;
const loading = new Map();                       // 'vae-decoder' -> Promise<LayersModel>

/**
 * Selects the wasm backend (fastest for these small models), falling back to cpu.
 * Safe to call more than once. Resolves to the backend's name.
 * @param {string} [wasmPath] folder holding the .wasm files (default: the page's lib/)
 * @returns {Promise<string>}
 */
export function initBackend(wasmPath) {
  if (!backendReady) {
    backendReady = (async () => {
      try {
        tf.wasm.setWasmPaths(wasmPath ?? new URL('lib/', document.baseURI).href);
        if (await tf.setBackend('wasm')) {
          await tf.ready();
          return tf.getBackend();
        }
      } catch (e) {
        console.warn('wasm backend unavailable, using cpu:', e);
      }
      await tf.setBackend('cpu');
      await tf.ready();
      return tf.getBackend();
    })();
  }
  return backendReady;
}

/**
 * Loads `name` (e.g. 'vae-decoder', 'judge') from the page's models/ folder once, and
 * checks it against its probe: {input, output, project?} computed by the build, compared
 * within 1e-3 (a decoder's 1,024 outputs as a few weighted sums). Rejects with an Error whose message names the model, its file and what failed.
 * @param {string} name
 * @param {{input: number[], output: number[], label: string, project?: boolean}} probe
 * @param {string} [base] folder of the models (default: the page's models/)
 * @returns {Promise<tf.LayersModel>}
 */
export function loadModel(name, probe, base) {
  if (!loading.has(name)) {
    const url = new URL(`${name}/model.json`, base ?? new URL('models/', document.baseURI)).href;
    const path = url.replace(/^.*?(models\/)/, '$1');
    const promise = (async () => {
      await initBackend();
      let model;
      try {
        model = await tf.loadLayersModel(url);
      } catch (e) {
        throw new Error(`The ${probe.label} could not be loaded from ${path} (${e.message}).`);
      }
      const out = run(model, probe.input);
      const got = probe.project ? projections(out, probe.output.length) : Array.from(out);
      const diff = Math.max(...got.map((v, i) => Math.abs(v - probe.output[i])));
      if (!(diff <= 1e-3)) {
        throw new Error(`The ${probe.label} in ${path} is damaged: it does not compute what the ` +
          `build's model computes (off by ${diff.toPrecision(2)}).`);
      }
      return model;
    })();
    promise.catch(() => loading.delete(name));   // a later call may retry
    loading.set(name, promise);
  }
  return loading.get(name);
}

/** Fixed weighted sums of a flat output, p_j = sum_k out_k sin((k + 1)(j + 1)), as the
 * build computes them (training/figure_data.py: projections). */
function projections(out, n) {
  return Array.from({ length: n }, (_, j) => out.reduce((s, v, k) => s + v * Math.sin((k + 1) * (j + 1)), 0));
}

/** Runs `model` on one flat input (shaped as the model's input); returns a flat Float32Array. */
function run(model, flat) {
  const shape = [1, ...model.inputs[0].shape.slice(1)];
  return tf.tidy(() => {
    const out = model.predict(tf.tensor(Array.from(flat), shape));
    return Array.isArray(out) ? Float32Array.from(out.flatMap(o => Array.from(o.dataSync()))) : out.dataSync();
  });
}

/**
 * Encodes one image. Input [1, 32, 32, 1] (NHWC, white ink on black in [0, 1]).
 * @param {tf.LayersModel} model an encoder: output [1, D] (AE) or [1, 2D] (VAE: mean, log-variance)
 * @param {Float32Array} pixels image_size**2 values in [0, 1], row by row
 * @param {number} dim D, the latent size
 * @returns {{mean: number[], logvar: number[]|null}}
 */
export function encode(model, pixels, dim) {
  const out = Array.from(run(model, pixels));
  return { mean: out.slice(0, dim), logvar: out.length > dim ? out.slice(dim, 2 * dim) : null };
}

/**
 * The judge's reading of one image: class probabilities [10].
 * @param {tf.LayersModel} judge
 * @param {Float32Array} pixels image_size**2 values in [0, 1], white ink on black
 * @returns {number[]}
 */
export function classify(judge, pixels) {
  return Array.from(run(judge, pixels));
}

const plans = new WeakMap();
const RESHAPING = new Set(['Reshape', 'ZeroPadding2D']);

/**
 * A faster forward pass for a model that is a stack of Dense layers followed only by
 * reshaping layers, as our decoders are: one fused matMul + bias + activation op per
 * Dense layer instead of model.predict's generic machinery (about 2.5x faster for one
 * latent point in the wasm backend, same result). Null for any other model.
 */
function densePlan(model) {
  if (!plans.has(model)) {
    const dense = [], tail = [];
    let ok = true;
    for (const layer of model.layers) {
      const kind = layer.getClassName();
      if (kind === 'Dense' && !tail.length) {
        const [kernel, bias] = layer.getWeights();
        dense.push({ kernel, bias, activation: layer.getConfig().activation });
      } else if (RESHAPING.has(kind)) {
        tail.push(layer);
      } else if (kind !== 'InputLayer') {
        ok = false;
      }
    }
    ok &&= dense.every(d => ['linear', 'relu', 'sigmoid'].includes(d.activation));
    plans.set(model, ok && dense.length ? { dense, tail } : null);
  }
  return plans.get(model);
}

/**
 * Decodes latent points. Input [N, D]; output [N, 32, 32, 1] (sigmoid, in [0, 1]).
 * @param {tf.LayersModel} model a decoder
 * @param {ArrayLike<number>|ArrayLike<number>[]} z one code, or several
 * @returns {Float32Array} N * image_size**2 intensities in [0, 1], white ink on black, row by row
 */
export function decode(model, z) {
  const rows = typeof z[0] === 'number' ? [z] : z;
  const plan = densePlan(model);
  return tf.tidy(() => {
    let h = tf.tensor2d(rows.map(r => Array.from(r)), [rows.length, rows[0].length]);   // [N, D]
    if (!plan) return model.predict(h).dataSync();
    for (const { kernel, bias, activation } of plan.dense) {
      h = tf.fused.matMul({ a: h, b: kernel, bias, activation });                       // [N, units]
    }
    for (const layer of plan.tail) h = layer.apply(h);                                  // [N, 32, 32, 1]
    return h.dataSync();
  });
}
