// frameLikeMnist (article/js/framing.js) against training/inputs.py's frame_like_mnist.
import test from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURES } from './setup.mjs';
import { frameLikeMnist } from '../../article/js/framing.js';

test('frames drawings as the build frames its inputs, within 1/255', { skip: !FIXTURES }, () => {
  const { framing, cases } = FIXTURES.framing;
  assert.ok(cases.length >= 3);
  for (const { name, width, height, ink, expected } of cases) {
    const got = frameLikeMnist(Uint8ClampedArray.from(ink), width, height, framing);
    assert.equal(got.length, expected.length, name);
    const worst = Math.max(...got.map((v, k) => Math.abs(v - expected[k])));
    assert.ok(worst <= 1, `${name}: differs by ${worst}/255`);
  }
});

test('an empty drawing frames to nothing', { skip: !FIXTURES }, () => {
  const { framing } = FIXTURES.framing;
  assert.equal(frameLikeMnist(new Uint8ClampedArray(50 * 50), 50, 50, framing), null);
  const faint = new Uint8ClampedArray(50 * 50).fill(Math.floor(framing.ink * 255));   // at the threshold: no ink
  assert.equal(frameLikeMnist(faint, 50, 50, framing), null);
});
