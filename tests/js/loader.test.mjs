// The page's one loader (article/js/models.js): every file checked by size and SHA-256
// against the build's list, the file that fails named, a JSON file of another build told
// apart. Served from the tiny build by a loopback server that can misbehave.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SITE, siteData } from './setup.mjs';
import { checkBytes, configure, fetchJson, loadModel, looksLikeHtml } from '../../article/js/models.js';

const bytes = text => new TextEncoder().encode(text).buffer;

test('an HTML page is never taken for a file, whatever its size', async () => {
  assert.ok(looksLikeHtml(bytes('\n  <!DOCTYPE html><html lang="en">')));
  assert.ok(!looksLikeHtml(bytes('{"format": "layers-model"}')));
  const page = bytes('<!doctype html><title>Not here</title>');
  assert.match(await checkBytes(page, { bytes: page.byteLength, sha256: '0' }), /web page \(HTML\)/);
});

test('a file of the wrong size or content is told apart from the right one', async () => {
  const right = bytes('weights'), other = '0'.repeat(64);
  const digest = Buffer.from(await crypto.subtle.digest('SHA-256', right)).toString('hex');
  assert.equal(await checkBytes(right, { bytes: right.byteLength, sha256: digest }), null);
  assert.match(await checkBytes(bytes('weight'), { bytes: right.byteLength, sha256: digest }), /has 6 bytes where this build made 7/);
  assert.match(await checkBytes(right, { bytes: right.byteLength, sha256: other }), /SHA-256 does not match/);
});

/** Serves SITE on loopback; `quirk(path)` may answer instead: {status, body}. */
async function serve(quirk = () => null) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname).slice(1);
    const instead = quirk(path);
    if (instead) {
      res.writeHead(instead.status ?? 200);
      return res.end(instead.body);
    }
    try {
      res.end(readFileSync(join(SITE, path)));
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() };
}

test('a model loads when its files are those of the build, and a broken one names its shard', { skip: !SITE }, async () => {
  const data = siteData();
  const shard = 'models/ae-decoder/group1-shard1of1.bin';
  const index = readFileSync(join(SITE, 'index.html'));
  const host = await serve(path => (path === shard ? { body: index } : null));   // a host's page for a missing file
  try {
    configure({ build: data.build, files: data.files, base: host.base });
    const model = await loadModel('vae-decoder', data.probes['vae-decoder']);
    assert.equal(model.outputs[0].shape.at(-1), 1);
    await assert.rejects(loadModel('ae-decoder', data.probes['ae-decoder']), error => {
      assert.equal(error.path, shard);
      assert.match(error.message, /AE decoder could not be loaded: models\/ae-decoder\/group1-shard1of1\.bin came back as a web page/);
      return true;
    });
  } finally {
    host.close();
  }
});

test('JSON of another build is reported as an update of the site', { skip: !SITE }, async () => {
  const data = siteData();
  const host = await serve();
  try {
    configure({ build: data.build, files: data.files, base: host.base });
    assert.equal((await fetchJson('data/figure-data.json')).build, data.build);
    configure({ build: 'an-older-one', files: data.files, base: host.base });
    await assert.rejects(fetchJson('data/figure-data.json'), error => error.updated && /was updated/.test(error.message));
  } finally {
    host.close();
  }
});
