import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GlobSet, compileGlob, globProblem } from '../core/glob.js';
import { discoverModels, modelFor } from './discovery.js';
import { DEFAULT_SETTINGS } from '../protocol.js';
import { scratchDir } from '../testing/paths.js';

test('globs: ** spans folders (also none), * stays in one, {a,b} alternates', () => {
  const g = compileGlob('**/*.{h5,keras,onnx}');
  assert.ok(g.test('m.h5'));
  assert.ok(g.test('a/b/c/m.onnx'));
  assert.ok(!g.test('a/m.h5.bak'));
  assert.ok(!g.test('a/m.json'));
  assert.ok(compileGlob('**/model.json').test('x/tfjs/model.json'));
  assert.ok(!compileGlob('**/model.json').test('x/my-model.json'));
  assert.ok(compileGlob('data/*.npy').test('data/x.npy'));
  assert.ok(!compileGlob('data/*.npy').test('data/sub/x.npy'));
  assert.ok(compileGlob('m?.h5').test('m1.h5'));
  assert.ok(compileGlob('[ab].h5').test('b.h5') && !compileGlob('[ab].h5').test('c.h5'));
  assert.ok(compileGlob('a.b+c(1).h5').test('a.b+c(1).h5'), 'regex characters are literal');
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
  const defaults = new GlobSet(DEFAULT_SETTINGS.modelGlobs, DEFAULT_SETTINGS.exclude);
  assert.equal(modelFor([dir], join(dir, 'x/new.keras'), defaults), join(dir, 'x/new.keras'));
  assert.equal(modelFor([dir], join(dir, 'node_modules/new.keras'), defaults), undefined);
  assert.equal(modelFor([dir], '/elsewhere/m.h5', defaults), undefined);
});

/** CPU milliseconds `fn` takes (not wall clock: the test machine is shared). */
function cpuMs(fn: () => void): number {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

test('globs: many ** segments against a long name match in linear time (the 40 s freeze)', () => {
  // The reported pattern: `**/` repeated, against a 255-character name that almost matches.
  const glob = '**/'.repeat(30) + '*a*a*a*a*a*a*a*a*a*a*.h5';
  const name = 'a/'.repeat(60) + 'a'.repeat(255);
  let matched = true;
  const ms = cpuMs(() => {
    matched = compileGlob(glob).test(name);
  });
  assert.equal(matched, false);
  assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms of CPU`);
  // A variant: stars within one segment and a near-miss suffix, plus the matching case.
  const g2 = compileGlob('*'.repeat(40) + 'x' + '*?'.repeat(40) + 'y');
  const ms2 = cpuMs(() => {
    assert.equal(g2.test('x'.repeat(5000)), false);
    assert.equal(g2.test('x' + 'z'.repeat(100) + 'y'), true);
  });
  assert.ok(ms2 < 1000, `took ${ms2.toFixed(0)} ms of CPU`);
  // Semantics kept: ** spans folders, * does not.
  assert.ok(compileGlob('**/a/**/b.h5').test('a/b.h5'));
  assert.ok(compileGlob('**/a/**/b.h5').test('x/a/y/z/b.h5'));
  assert.ok(!compileGlob('a/*.h5').test('a/b/c.h5'));
  assert.ok(compileGlob('a/**').test('a/b/c.h5'));
  assert.ok(compileGlob('{a,b/{c,d}}/*.h5').test('b/d/m.h5'));
  assert.ok(!compileGlob('[!ab].h5').test('a.h5') && compileGlob('[!ab].h5').test('c.h5'));
});

test('globs: patterns that leave the workspace folder or expand without bound are refused', () => {
  for (const bad of ['../../../**/*.h5', '/etc/**', 'a/../../b.h5', 'C:/x/*.h5', '{..,a}/*.h5', '{/etc,a}/*', '{a,b}'.repeat(10)]) {
    assert.ok(globProblem(bad), bad);
    assert.equal(compileGlob(bad).test('a'), false, bad);
  }
  assert.equal(globProblem('**/*.{h5,onnx}'), undefined);
});

test('discovery: a SavedModel folder is one model; symlinks (loops included) are not followed', async () => {
  const dir = scratchDir('lsp-discovery-savedmodel');
  rmSync(dir, { recursive: true, force: true });
  for (const f of ['sm/saved_model.pb', 'sm/keras_metadata.pb', 'sm/variables/variables.index', 'sm/variables/variables.data-00000-of-00001', 'sm/assets/vocab.txt', 'other/m.h5']) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), 'x');
  }
  symlinkSync(dir, join(dir, 'other', 'loop'));
  symlinkSync(join(dir, 'other', 'm.h5'), join(dir, 'linked.h5'));
  const globs = [...DEFAULT_SETTINGS.modelGlobs, '**/*.pb', '**/variables.*'];
  const r = await discoverModels([dir], { include: globs, exclude: DEFAULT_SETTINGS.exclude, maxFileBytes: 1000 });
  assert.deepEqual(r.files.map((f) => f.slice(dir.length + 1)), ['other/m.h5', 'sm']);
  // A watcher event inside the SavedModel is news about the folder; a symlink is no model.
  const set = new GlobSet(globs, []);
  assert.equal(modelFor([dir], join(dir, 'sm/variables/variables.index'), set), join(dir, 'sm'));
  assert.equal(modelFor([dir], join(dir, 'sm/saved_model.pb'), set), join(dir, 'sm'));
  assert.equal(modelFor([dir], join(dir, 'linked.h5'), set), undefined);
  assert.equal(modelFor([dir], join(dir, 'other/loop/other/m.h5'), set), undefined);
  // A symlink to a SavedModel folder (elsewhere, or here) is no model either.
  symlinkSync(join(dir, 'sm'), join(dir, 'other', 'sm-link'));
  assert.equal(modelFor([dir], join(dir, 'other/sm-link'), set), undefined);
  assert.equal(modelFor([dir], join(dir, 'other/sm-link/variables/variables.index'), set), undefined);
});

test('discovery stops at its entry budget and answers between chunks', async () => {
  const dir = scratchDir('lsp-discovery-budget');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'many'), { recursive: true });
  for (let i = 0; i < 2000; i++) writeFileSync(join(dir, 'many', `f${i}.h5`), 'x');
  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  const r = await discoverModels([dir], { include: DEFAULT_SETTINGS.modelGlobs, exclude: [], maxFileBytes: 1000, maxEntries: 1000 });
  clearInterval(timer);
  assert.equal(r.truncated, true);
  assert.ok(r.files.length <= 1000 && r.files.length > 0, String(r.files.length));
  assert.ok(ticks > 0, 'the event loop ran during the scan');
});
