/**
 * The editor judges a model under the composite `lrp-lens check --config` uses: the lrp-lens.json entry's
 * explain composite wins over the lrpLens.composite setting in the static diagnostics too (drift: the
 * analysis used the setting alone), and editing the entry re-judges the model.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SAMPLES, scratchDir } from '../testing/paths.js';
import { startClient, type TestClient } from '../testing/lsp-client.js';

const dir = scratchDir('lsp-project-composite');
const uri = (rel: string) => pathToFileURL(join(dir, rel)).href;
let client: TestClient;

function project(composite: string): string {
  return JSON.stringify({ models: [{ name: 'deep', model: 'a/model.json', data: { file: 'x.npy' }, explain: { composite } }] }, null, 2);
}

before(async () => {
  rmSync(dir, { recursive: true, force: true });
  const src = join(SAMPLES, 'benchmark', 'models', 'deep-cnn');
  for (const sub of ['a', 'b']) {
    mkdirSync(join(dir, sub), { recursive: true });
    for (const f of ['model.json', 'weights.bin']) copyFileSync(join(src, f), join(dir, sub, f));
  }
  copyFileSync(join(SAMPLES, 'benchmark', 'data', 'x_test.npy'), join(dir, 'x.npy'));
  writeFileSync(join(dir, 'lrp-lens.json'), project('epsilon-plus'));
  client = await startClient(dir, { initializationOptions: { settings: { composite: 'epsilon' } } });
});

after(async () => {
  await client?.close();
});

const codes = (rel: string): string[] => (client.diagnostics.get(uri(rel)) ?? []).map((d) => String(d.code));

test("the entry's composite (epsilon-plus: a z+ chain, LRP112) applies to its model; the setting (epsilon) to the model without an entry", async () => {
  await client.waitFor('diagnostics for both models', () => client.diagnostics.has(uri('a/model.json')) && client.diagnostics.has(uri('b/model.json')));
  assert.ok(codes('a/model.json').includes('LRP112'), `a: ${codes('a/model.json')}`);
  assert.ok(!codes('b/model.json').includes('LRP112'), `b: ${codes('b/model.json')}`);
});

test('a changed entry re-judges its model', async () => {
  writeFileSync(join(dir, 'lrp-lens.json'), project('epsilon'));
  await client.conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uri('lrp-lens.json'), type: 2 }] });
  await client.waitFor('LRP112 gone from a/model.json', () => !codes('a/model.json').includes('LRP112'));
});
