// Run a TF.js layers model in Node with pure @tensorflow/tfjs (CPU backend, no tfjs-node).
//
//   node tests/tfjs_predict.mjs MODEL_DIR [INPUT.json]   (input from stdin when no file)
//
// MODEL_DIR holds model.json and its weight shards. INPUT is a JSON nested array, the
// batch (e.g. [N, 32, 32, 1] images or [N, 4] codes). Prints the outputs as one JSON
// nested array on stdout. Run from the repository root so node_modules resolves.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// tfjs greets Node users on stdout; keep stdout for the JSON result only.
console.log = console.info = (...a) => console.error(...a);
const tf = await import('@tensorflow/tfjs');

const [dir, inputFile] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node tests/tfjs_predict.mjs MODEL_DIR [INPUT.json]');
  process.exit(2);
}
const modelJson = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
const manifest = modelJson.weightsManifest;
const shards = manifest.flatMap((group) => group.paths.map((p) => readFileSync(join(dir, p))));
const all = Buffer.concat(shards);
const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);

await tf.setBackend('cpu');
const model = await tf.loadLayersModel(tf.io.fromMemory({
  modelTopology: modelJson.modelTopology,
  weightSpecs: manifest.flatMap((group) => group.weights),
  weightData,
}));
const input = JSON.parse(readFileSync(inputFile ?? 0, 'utf8'));
const output = model.predict(tf.tensor(input, undefined, 'float32'));
process.stdout.write(JSON.stringify(output.arraySync()) + '\n');
