// The shared state (article/js/state.js): setters, events and the URL fragment.
import test from 'node:test';
import assert from 'node:assert/strict';
import { SITE, siteData } from './setup.mjs';
import { createState, fromHash, restore, toHash } from '../../article/js/state.js';

const data = () => ({ ...siteData(), palette: { inputs: ['#111', '#222', '#333'] } });

test('setLatent clamps into the axes and tells the listeners', { skip: !SITE }, () => {
  const d = data(), state = createState(d), heard = [];
  state.on('latent.test', (z, previous, source) => heard.push([z, previous, source]));
  state.setLatent([1e9, -1e9, 0.5, 'x'], 'drag');
  const axes = d.models[state.model].axes;
  assert.deepEqual(state.z, [axes[0].range[1], axes[1].range[0], 0.5, 0]);
  assert.equal(heard.length, 1);
  assert.equal(heard[0][2], 'drag');
  state.setLatent(state.z);                              // no change, no event
  assert.equal(heard.length, 1);
});

test('interpolation runs between the two most recent inputs, and dragging leaves it', { skip: !SITE }, () => {
  const d = data(), state = createState(d);
  const [a, b, c] = d.inputs;
  [a, b, c].forEach(x => state.select(x.id, true));
  assert.deepEqual(state.pair().map(x => x.id), [b.id, c.id]);
  state.setInterp(0);
  assert.deepEqual(state.z, b.codes[state.model]);
  state.setInterp(1);
  assert.deepEqual(state.z, c.codes[state.model]);
  state.setModel('ae');                                  // the walk continues in the AE's space
  assert.deepEqual(state.z, c.codes.ae);
  state.setLatent([0, 0, 0, 0], 'drag');
  assert.equal(state.t, null);
  state.select(c.id, false);
  assert.deepEqual(state.pair().map(x => x.id), [a.id, b.id]);
});

test('the URL fragment restores the same state exactly', { skip: !SITE }, () => {
  const d = data(), one = createState(d);
  one.select(d.inputs[3].id, true);
  one.select(d.inputs[5].id, true);
  one.setModel('ae');
  one.setLatent([0.123456789, -1.5, 2 / 3, 1e-7]);
  const two = createState(d);
  assert.ok(restore(two, fromHash(`#${toHash(one)}`, d)));
  assert.equal(two.model, 'ae');
  assert.deepEqual(two.z, one.z);
  assert.deepEqual(two.selected, one.selected);
  one.setInterp(0.25);
  const three = createState(d);
  restore(three, fromHash(toHash(one), d));
  assert.equal(three.t, 0.25);
  assert.deepEqual(three.z, one.z);
});

test('a fragment without a code puts the line on its most recent input, in its model', { skip: !SITE }, () => {
  const d = data(), state = createState(d);
  const [a, b] = d.inputs;
  assert.ok(restore(state, fromHash(`#m=ae&in=${a.id},${b.id}`, d)));
  assert.equal(state.model, 'ae');
  assert.deepEqual(state.z, b.codes.ae);
  // a model the page has not loaded yet (the beta family): restored again once it has
  const family = createState(d), saved = fromHash(`#m=vae-x&in=${a.id}`, { ...d, betas: { models: [{ name: 'vae-x' }] } });
  restore(family, saved);
  assert.deepEqual(family.z, a.codes[family.model]);
  d.models['vae-x'] = d.models.vae;
  a.codes['vae-x'] = a.codes.vae.map(v => v / 2);
  restore(family, saved);
  assert.equal(family.model, 'vae-x');
  assert.deepEqual(family.z, a.codes['vae-x']);
});

test('a malformed or hostile fragment is ignored', { skip: !SITE }, () => {
  const d = data();
  for (const hash of ['', '#', '#m=%E0%A4%A', '#m=__proto__&z=1,2&in=<script>,digit-x', '#z=NaN,1,2,3&t=7',
    '#m=constructor&z=1e999,0,0,0', `#in=${'a,'.repeat(10000)}`]) {
    const state = createState(d);
    const saved = fromHash(hash, d);
    assert.deepEqual(saved.inputs, []);
    assert.equal(saved.model, undefined);
    assert.equal(saved.z, undefined);
    assert.equal(saved.t, undefined);
    assert.equal(restore(state, saved), false);
  }
});
