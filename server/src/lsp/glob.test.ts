import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GlobSet, globToRegExp } from './glob.js';
import { discoverModels, isModelFile } from './discovery.js';
import { DEFAULT_SETTINGS } from '../protocol.js';
import { scratchDir } from '../testing/paths.js';

test('globs: ** spans folders (also none), * stays in one, {a,b} alternates', () => {
  const g = globToRegExp('**/*.{h5,keras,onnx}');
  assert.ok(g.test('m.h5'));
  assert.ok(g.test('a/b/c/m.onnx'));
  assert.ok(!g.test('a/m.h5.bak'));
  assert.ok(!g.test('a/m.json'));
  assert.ok(globToRegExp('**/model.json').test('x/tfjs/model.json'));
  assert.ok(!globToRegExp('**/model.json').test('x/my-model.json'));
  assert.ok(globToRegExp('data/*.npy').test('data/x.npy'));
  assert.ok(!globToRegExp('data/*.npy').test('data/sub/x.npy'));
  assert.ok(globToRegExp('m?.h5').test('m1.h5'));
  assert.ok(globToRegExp('[ab].h5').test('b.h5') && !globToRegExp('[ab].h5').test('c.h5'));
  assert.ok(globToRegExp('a.b+c(1).h5').test('a.b+c(1).h5'), 'regex characters are literal');
});

test('excluded folders are not entered', () => {
  const s = new GlobSet(DEFAULT_SETTINGS.modelGlobs, DEFAULT_SETTINGS.exclude);
  assert.ok(s.excludesDir('node_modules'));
  assert.ok(s.excludesDir('a/node_modules'));
  assert.ok(s.excludesDir('.git'));
  assert.ok(!s.excludesDir('models'));
  assert.ok(!s.matches('node_modules/x/m.h5'));
});

test('discovery finds model files, skips excluded folders and files over the size limit', async () => {
  const dir = scratchDir('lsp-discovery');
  rmSync(dir, { recursive: true, force: true });
  for (const f of ['a/m.h5', 'a/b/m.onnx', 'tfjs/model.json', 'node_modules/p/m.h5', '.git/m.keras', 'notes/other.json', 'big/big.h5']) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), f === 'big/big.h5' ? Buffer.alloc(3000) : 'x');
  }
  const r = await discoverModels([dir], { include: DEFAULT_SETTINGS.modelGlobs, exclude: DEFAULT_SETTINGS.exclude, maxFileBytes: 1000 });
  assert.deepEqual(r.files.map((f) => f.slice(dir.length + 1)).sort(), ['a/b/m.onnx', 'a/m.h5', 'tfjs/model.json']);
  assert.deepEqual(r.tooLarge.map((t) => [t.file.slice(dir.length + 1), t.bytes]), [['big/big.h5', 3000]]);
  assert.ok(isModelFile([dir], join(dir, 'x/new.keras'), DEFAULT_SETTINGS.modelGlobs, DEFAULT_SETTINGS.exclude));
  assert.ok(!isModelFile([dir], join(dir, 'node_modules/new.keras'), DEFAULT_SETTINGS.modelGlobs, DEFAULT_SETTINGS.exclude));
  assert.ok(!isModelFile([dir], '/elsewhere/m.h5', DEFAULT_SETTINGS.modelGlobs, DEFAULT_SETTINGS.exclude));
});
