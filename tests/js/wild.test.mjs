// The state applied to a page already in use (issue 18: a fragment changed by hand, a link,
// Back or Forward), and the VAE the beta control shows (article/js/state.js).
import test from 'node:test';
import assert from 'node:assert/strict';
import { SITE, siteData } from './setup.mjs';
import { createState, fromHash, hasState, restore } from '../../article/js/state.js';
import { aDigit } from '../../article/js/digits.js';

const data = () => ({ ...siteData(), palette: { inputs: ['#111', '#222', '#333'] } });

test('a fragment applied to a state in use makes it that state', { skip: !SITE }, () => {
  const d = data(), state = createState(d);
  const [a, b, c] = d.inputs;
  state.addInput({ ...a, id: 'drawing-1', name: 'drawing 1', kind: 'drawn' });
  for (const id of [a.id, 'drawing-1', b.id, c.id]) state.select(id, true);
  state.setModel('ae');
  state.setInterp(0.5);
  assert.ok(restore(state, fromHash(`#in=${c.id},${a.id}`, d)));
  assert.equal(state.model, d.model_order[0]);                  // no model given: the first
  assert.deepEqual(state.selected.map(s => s.id), ['drawing-1', c.id, a.id]);   // drawings stay
  assert.equal(state.t, null);
  assert.deepEqual(state.z, a.codes[state.model]);              // the newest input's code
  restore(state, fromHash(`#m=ae&in=${c.id},${a.id}&t=0.25`, d));
  assert.equal(state.t, 0.25);
  assert.deepEqual(state.pair().map(x => x.id), [c.id, a.id]);
  const colours = state.selected.map(s => s.colour);
  restore(state, fromHash(`#m=ae&in=${c.id},${a.id},${b.id}`, d));
  assert.deepEqual(state.selected.slice(0, 3).map(s => s.colour), colours);   // the kept ones keep theirs
  assert.equal(hasState(fromHash('#results-table', d)), false); // a link to a section says nothing
});

test('the VAE last shown is the one the beta control shows', { skip: !SITE }, () => {
  const d = data(), state = createState(d);
  assert.equal(state.vae, 'vae');
  d.models['vae-x'] = { ...d.models.vae };
  state.setModel('vae-x');
  state.setModel('ae');
  assert.equal(state.model, 'ae');
  assert.equal(state.vae, 'vae-x');
});

test('the judge\'s readings give each digit its article: "an 8", "a 7"', () => {
  assert.deepEqual([0, 1, 7, 8, 9].map(aDigit), ['a 0', 'a 1', 'a 7', 'an 8', 'a 9']);
});
