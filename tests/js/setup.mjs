// Shared by the Node tests of the page's modules: the globals the page gets from its
// classic scripts (tf, d3), and the fixtures tests/test_page_modules.py wrote for them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

console.log = console.info = (...a) => console.error(...a);   // tfjs greets Node users on stdout
globalThis.tf = await import('@tensorflow/tfjs');
globalThis.d3 = await import('d3');
await tf.setBackend('cpu');

export const FIXTURES = process.env.FIXTURES ? JSON.parse(readFileSync(process.env.FIXTURES, 'utf8')) : null;
export const SITE = process.env.SITE ?? null;

/** A TF.js layers model from a folder of the built site, without fetch (Node has no file: fetch). */
export async function loadFolder(dir) {
  const spec = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const all = Buffer.concat(spec.weightsManifest.flatMap(g => g.paths.map(p => readFileSync(join(dir, p)))));
  return tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: spec.modelTopology,
    weightSpecs: spec.weightsManifest.flatMap(g => g.weights),
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
  }));
}

/** The built site's figure data, with its palette. */
export function siteData() {
  return JSON.parse(readFileSync(join(SITE, 'data', 'figure-data.json'), 'utf8'));
}
