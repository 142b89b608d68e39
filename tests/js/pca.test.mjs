// decodePca, project and unproject (figures/map/pca.js) against the Python side.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, SITE, siteData } from './setup.mjs';
import { decodePca, project, unproject } from '../../figures/map/pca.js';

test('decodes the map points as training/figure_data.py dequantises them', { skip: !SITE }, () => {
  const data = siteData();
  const file = readFileSync(join(SITE, data.pca.file));
  const { points, labels } = decodePca(data.pca, data.models, file.buffer.slice(file.byteOffset, file.byteOffset + file.length));
  const { expected } = FIXTURES.pca;
  for (const m of data.pca.models) {
    expected.points[m].forEach(([x, y], i) => {
      assert.ok(Math.abs(points[m][2 * i] - x) < 1e-5 && Math.abs(points[m][2 * i + 1] - y) < 1e-5, `${m} ${i}`);
    });
  }
  assert.deepEqual(Array.from(labels.slice(0, expected.labels.length)), expected.labels);
});

test('project and unproject are each other\'s inverse within the plane, and agree with sklearn', { skip: !SITE }, () => {
  const data = siteData();
  for (const m of data.model_order) {
    const { pca } = data.models[m];
    const xy = [0.37, -1.2];
    const back = project(unproject(xy, pca), pca);
    assert.ok(Math.abs(back[0] - xy[0]) < 1e-4 && Math.abs(back[1] - xy[1]) < 1e-4, m);
    for (const [z, want] of FIXTURES.pca.projections[m]) {
      const got = project(z, pca);
      assert.ok(Math.abs(got[0] - want[0]) < 1e-4 && Math.abs(got[1] - want[1]) < 1e-4, `${m}: ${got} vs ${want}`);
    }
  }
});
