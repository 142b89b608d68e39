// The TF.js models and the calls the page makes: decoders and encoders of the AE and the
// VAE, and the judge (the build's digit classifier). Each is loaded once, when first
// asked for, and checked against a probe the build computed with PyTorch, so that a
// damaged file is named instead of silently drawing nonsense.
// Needs the global `tf` (the classic scripts in lib/: TF.js core, layers and wasm).

let backendReady = null;
const loading = new Map();                       // 'vae-decoder' -> Promise<LayersModel>
let site = { build: null, files: null, base: null };
const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
/** The binary the WebAssembly backend fetches in every browser that runs the page's wasm (all have SIMD). */
export const WASM_BINARY = 'lib/tfjs-backend-wasm-simd.wasm';
/** TF.js's plain JavaScript backend, loaded only where the WebAssembly backend does not start. */
const CPU_BACKEND = 'lib/tf-backend-cpu.min.js';

/**
 * Tells the loader which build the page belongs to: `build` (the id that every file URL
 * carries as ?v=), `files` ({path: {bytes, sha256}}, the build's list of the binary files
 * the page fetches) and `base` (the site's address; default: the page's).
 */
export function configure({ build = null, files = null, base = null } = {}) {
  site = { build, files, base };
}

/** The address of a file of the site, tagged with the build it belongs to. */
export function siteUrl(path) {
  const url = new URL(path, site.base ?? document.baseURI);
  if (site.build) url.searchParams.set('v', site.build);
  return url.href;
}

/** A file of the site that could not be used: `path` names it; `updated` is true when the
 * server has files of another build than the page's. */
export class LoadError extends Error {
  constructor(message, path, updated = false) {
    super(message);
    Object.assign(this, { name: 'LoadError', path, updated });
  }
}

const hex = buffer => Array.from(new Uint8Array(buffer), b => b.toString(16).padStart(2, '0')).join('');

/** Whether bytes start like an HTML page (what many hosts send for a missing file). */
export function looksLikeHtml(bytes) {
  const head = new TextDecoder().decode(new Uint8Array(bytes, 0, Math.min(bytes.byteLength, 256)));
  return /^\s*(<!doctype html|<html|<head|<body|<!--)/i.test(head);
}

/**
 * What is wrong with the bytes a server sent for a file, against the build's record of it
 * ({bytes, sha256}), or null if nothing. The SHA-256 is checked where the browser offers
 * it (crypto.subtle: https and localhost); the size always.
 * @returns {Promise<string|null>}
 */
export async function checkBytes(bytes, want) {
  if (!want) return null;
  if (looksLikeHtml(bytes)) {
    return 'came back as a web page (HTML) instead of the file: the server has no such file and sent a page in its place';
  }
  if (bytes.byteLength !== want.bytes) {
    return `has ${bytes.byteLength.toLocaleString('en')} bytes where this build made ` +
      `${want.bytes.toLocaleString('en')}: it is truncated or damaged, or a cache kept it from an earlier build ` +
      '(then reloading the page helps)';
  }
  const subtle = globalThis.crypto?.subtle;
  if (subtle && hex(await subtle.digest('SHA-256', bytes)) !== want.sha256) {
    return 'differs from the file this build made (its SHA-256 does not match): it is damaged, or a cache kept ' +
      'it from an earlier build (then reloading the page helps)';
  }
  return null;
}

/** The response for a file of the site, or a LoadError that names it (unreachable, or not there). */
async function fetchOk(path) {
  let response;
  try {
    response = await fetch(siteUrl(path));
  } catch (e) {
    throw new LoadError(`${path} could not be fetched (${e.message}).`, path);
  }
  if (!response.ok) throw new LoadError(`${path} is missing on the server (HTTP ${response.status}).`, path);
  return response;
}

/**
 * Fetches a file of the site (a path like 'models/judge/model.json') and checks it against
 * the build's list. Rejects with a LoadError that names the file and what is wrong.
 * @returns {Promise<ArrayBuffer>}
 */
export async function fetchFile(path) {
  const response = await fetchOk(path);
  const bytes = await response.arrayBuffer();
  if (site.files && !site.files[path]) throw new LoadError(`${path} is not a file of this build.`, path);
  const problem = await checkBytes(bytes, site.files?.[path]);
  if (problem) throw new LoadError(`${path} ${problem}.`, path);
  return bytes;
}

/**
 * Fetches a JSON file that carries the id of the build that made it, and checks that id
 * against the page's: a host that mixes two builds gets a LoadError with `updated` set.
 */
export async function fetchJson(path) {
  const response = await fetchOk(path);
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    const what = looksLikeHtml(new TextEncoder().encode(text).buffer) ? 'a web page (HTML)' : 'something that is not JSON';
    throw new LoadError(`${path} came back as ${what}: the server does not have the file this page needs.`, path);
  }
  if (site.build && json.build !== site.build) {
    throw new LoadError(`This site was updated after this page was loaded: ${path} belongs to build ` +
      `${json.build ?? 'unknown'}, the page to build ${site.build}.`, path, true);
  }
  return json;
}

/**
 * Runs the classic script at `path` (under the site) once it has loaded; `inOrder`: after the
 * scripts asked for before it in order. Rejects with a LoadError that names the file.
 * @param {string} path
 * @param {{inOrder?: boolean}} [options]
 */
export function loadScript(path, { inOrder = false } = {}) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = siteUrl(path);
    script.async = !inOrder;
    script.onload = resolve;
    script.onerror = () => reject(new LoadError(`${path} could not be loaded.`, path));
    document.head.append(script);
  });
}

const within = (promise, ms) => Promise.race([promise, new Promise(resolve => setTimeout(() => resolve('timeout'), ms))]);

/**
 * Starts TF.js on WebAssembly (fastest for these small models), else on plain JavaScript
 * (the cpu backend). The WebAssembly backend runs single-threaded: its threaded build
 * needs blob: workers, which the page's Content-Security-Policy forbids (on a host that
 * sends cross-origin-isolation headers TF.js would pick it and never finish). Start-up
 * that neither finishes nor fails within `timeout` ms falls back too. Safe to call more
 * than once. Resolves to {name: 'wasm' | 'cpu', reason?: why not wasm}.
 * @param {{timeout?: number}} [options]
 * @returns {Promise<{name: string, reason?: string}>}
 */
export function initBackend({ timeout = 8000 } = {}) {
  if (!backendReady) {
    backendReady = (async () => {
      let reason;
      try {
        tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
        tf.wasm.setWasmPaths(Object.fromEntries(WASM_FILES.map(f => [f, siteUrl(`lib/${f}`)])));
        const ok = await within(tf.setBackend('wasm'), timeout);
        if (ok === true) return { name: tf.getBackend() };
        reason = ok === 'timeout' ? `it did not start within ${timeout / 1000} s` : 'it did not start';
      } catch (e) {
        reason = `it did not start (${e.message ?? e})`;
      }
      console.warn(`TF.js: WebAssembly backend unavailable (${reason}); using the cpu backend`);
      if (tf.findBackendFactory('wasm')) tf.removeBackend('wasm');   // forget the start-up that hangs
      if (!tf.findBackendFactory('cpu')) await loadScript(CPU_BACKEND);
      await tf.setBackend('cpu');
      return { name: tf.getBackend(), reason };
    })();
  }
  return backendReady;
}

/**
 * Loads `name` (e.g. 'vae-decoder', 'judge') from the site's models/ folder once: its
 * model.json and weight files, each checked against the build's list of files (size and
 * SHA-256), then the model against its probe: {input, output, project?} computed by the
 * build, compared within 1e-3 (a decoder's 1,024 outputs as a few weighted sums). Rejects
 * with a LoadError whose message names the model, the file and what failed; a later call
 * tries again.
 * @param {string} name
 * @param {{input: number[], output: number[], label: string, project?: boolean}} probe
 * @returns {Promise<tf.LayersModel>}
 */
export function loadModel(name, probe) {
  if (!loading.has(name)) {
    const dir = `models/${name}`;
    const promise = (async () => {
      const fail = (e, path = e.path ?? `${dir}/model.json`) => {
        throw new LoadError(`The ${probe.label} could not be loaded: ${e.message}`, path, e.updated);
      };
      let spec, weights;
      try {
        const text = new TextDecoder().decode(await fetchFile(`${dir}/model.json`));
        try {
          spec = JSON.parse(text);
        } catch {
          throw new LoadError(`${dir}/model.json is not a model description (not JSON).`, `${dir}/model.json`);
        }
        const paths = spec.weightsManifest.flatMap(group => group.paths);
        weights = await Promise.all(paths.map(p => fetchFile(`${dir}/${p}`)));
      } catch (e) {
        fail(e);
      }
      await initBackend();                       // compiled meanwhile: the files came in parallel
      const all = new Uint8Array(weights.reduce((n, w) => n + w.byteLength, 0));
      weights.reduce((at, w) => { all.set(new Uint8Array(w), at); return at + w.byteLength; }, 0);
      let model;
      try {
        model = await tf.loadLayersModel(tf.io.fromMemory({
          modelTopology: spec.modelTopology,
          weightSpecs: spec.weightsManifest.flatMap(group => group.weights),
          weightData: all.buffer,
        }));
      } catch (e) {
        fail(new Error(`${dir} does not make a model (${e.message}).`));
      }
      const out = run(model, probe.input);
      const got = probe.project ? projections(out, probe.output.length) : Array.from(out);
      const diff = Math.max(...got.map((v, i) => Math.abs(v - probe.output[i])));
      if (!(diff <= 1e-3)) {
        throw new LoadError(`The ${probe.label} in ${dir} is damaged: it does not compute what the ` +
          `build's model computes (off by ${diff.toPrecision(2)}).`, `${dir}/model.json`);
      }
      return model;
    })();
    promise.catch(() => loading.delete(name));   // a later call may retry
    loading.set(name, promise);
  }
  return loading.get(name);
}

/** Fixed weighted sums of a flat output, p_j = sum_k out_k sin((k + 1)(j + 1)), as the
 * build computes them (article/measure.py: projections). */
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
