// Run TF.js layers models in Node with pure @tensorflow/tfjs (CPU backend, no tfjs-node).
//
//   node tests/tfjs_predict.mjs [INPUT.json]   (input from stdin when no file)
//
// INPUT is a JSON object {MODEL_DIR: batch, ...}: each MODEL_DIR holds model.json and its
// weight shards, each batch is a JSON nested array (e.g. [N, 32, 32, 1] images or [N, 4]
// codes). Prints {MODEL_DIR: outputs, ...} as one JSON object on stdout. One process for
// every model, since starting Node and TF.js costs more than the predictions. Run from the
// repository root so node_modules resolves.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// tfjs greets Node users on stdout; keep stdout for the JSON result only.
console.log = console.info = (...a) => console.error(...a);
const tf = await import('@tensorflow/tfjs');
await tf.setBackend('cpu');

async function load(dir) {
  const modelJson = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const manifest = modelJson.weightsManifest;
  const all = Buffer.concat(manifest.flatMap(group => group.paths.map(p => readFileSync(join(dir, p)))));
  return tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: modelJson.modelTopology,
    weightSpecs: manifest.flatMap(group => group.weights),
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
  }));
}

const inputs = JSON.parse(readFileSync(process.argv[2] ?? 0, 'utf8'));
const outputs = {};
for (const [dir, batch] of Object.entries(inputs)) {
  outputs[dir] = (await load(dir)).predict(tf.tensor(batch, undefined, 'float32')).arraySync();
}
process.stdout.write(JSON.stringify(outputs) + '\n');
