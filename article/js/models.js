// The four TF.js models (AE and VAE, encoder and decoder) and the calls the page makes.
// Needs the global `tf` from the classic scripts in lib/ (TF.js core, layers, cpu and wasm backends).

export const MODEL_NAMES = ['ae', 'vae'];

let backendReady = null;
let modelsReady = null;

/**
 * Selects the wasm backend (fastest for these small models), falling back to cpu.
 * Safe to call more than once. Resolves to the backend's name.
 * @returns {Promise<string>}
 */
export function initBackend() {
  if (!backendReady) {
    backendReady = (async () => {
      try {
        tf.wasm.setWasmPaths(new URL('lib/', document.baseURI).href);
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
 * Loads the four layers models once from `base` (default: the page's models/ folder).
 * @param {string} [base]
 * @returns {Promise<{ae: {encoder, decoder}, vae: {encoder, decoder}}>}
 */
export function loadModels(base = new URL('models/', document.baseURI).href) {
  if (!modelsReady) {
    modelsReady = (async () => {
      await initBackend();
      const models = {};
      await Promise.all(MODEL_NAMES.flatMap(name => ['encoder', 'decoder'].map(async part => {
        const model = await tf.loadLayersModel(new URL(`${name}-${part}/model.json`, base).href);
        (models[name] ??= {})[part] = model;
      })));
      return models;
    })();
    modelsReady.catch(() => { modelsReady = null; });  // a later call may retry
  }
  return modelsReady;
}

/**
 * Encodes one image. Input tensor [1, 32, 32, 1] (NHWC, white ink on black in [0, 1]);
 * output [1, 4] (the VAE's encoder gives the mean).
 * @param {tf.LayersModel} model an encoder
 * @param {Float32Array} pixels 1024 values in [0, 1], row by row
 * @returns {Float32Array} the 4 latent values
 */
export function encode(model, pixels) {
  const [, height, width, channels] = model.inputs[0].shape;              // [null, 32, 32, 1]
  return tf.tidy(() =>
    model.predict(tf.tensor4d(pixels, [1, height, width, channels])).dataSync());
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
 * Decodes one latent point. Input tensor [1, 4]; output [1, 32, 32, 1] (sigmoid, in [0, 1]).
 * @param {tf.LayersModel} model a decoder
 * @param {ArrayLike<number>} z the 4 latent values
 * @returns {Float32Array} 1024 pixel intensities in [0, 1], white ink on black, row by row
 */
export function decode(model, z) {
  const plan = densePlan(model);
  return tf.tidy(() => {
    let h = tf.tensor2d(Array.from(z), [1, z.length]);                     // [1, 4]
    if (!plan) return model.predict(h).dataSync();
    for (const { kernel, bias, activation } of plan.dense) {
      h = tf.fused.matMul({ a: h, b: kernel, bias, activation });         // [1, units]
    }
    for (const layer of plan.tail) h = layer.apply(h);                    // [1, 32, 32, 1]
    return h.dataSync();
  });
}
