/**
 * The server state's caches: typed keys (equal settings or requests give one entry, a changed input
 * another), one eviction rule, the roots' real paths and the model globs resolved once per change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Connection } from 'vscode-languageserver/node';
import { DEFAULT_SETTINGS, type ExplainParams } from '../protocol.js';
import { scratchDir } from '../testing/paths.js';
import { BoundedCache } from './cache.js';
import { analysisKey, analysisKeyString, explainKey, explainKeyString } from './cache-keys.js';
import { ServerState } from './state.js';

test('a bounded cache drops its oldest entries past its size', () => {
  const c = new BoundedCache<{ n: number }, string>(2, (k) => String(k.n));
  c.set({ n: 1 }, 'a');
  c.set({ n: 2 }, 'b');
  c.set({ n: 3 }, 'c');
  assert.equal(c.size, 2);
  assert.equal(c.get({ n: 1 }), undefined);
  assert.equal(c.get({ n: 2 }), 'b');
  assert.equal(c.get({ n: 3 }), 'c');
});

test('analysis keys: the order of disabled checks and parameters does not matter, their values do', () => {
  const a = analysisKeyString(analysisKey('h', { ...DEFAULT_SETTINGS, disabledChecks: ['LRP101', 'LRP205'], compositeParams: { epsilon: 0.1, gamma: 0.25 } }));
  const b = analysisKeyString(analysisKey('h', { ...DEFAULT_SETTINGS, disabledChecks: ['LRP205', 'LRP101'], compositeParams: { gamma: 0.25, epsilon: 0.1 } }));
  const c = analysisKeyString(analysisKey('h', { ...DEFAULT_SETTINGS, disabledChecks: ['LRP101'], compositeParams: { epsilon: 0.1, gamma: 0.25 } }));
  assert.equal(a, b);
  assert.notEqual(a, c);
  assert.notEqual(a, analysisKeyString(analysisKey('other', { ...DEFAULT_SETTINGS, disabledChecks: ['LRP101', 'LRP205'], compositeParams: { epsilon: 0.1, gamma: 0.25 } })));
});

test("explain keys: the call's id and progress token do not count, every field that changes the result does", () => {
  const base = { hash: 'h', composite: { name: 'epsilon-plus', params: {} }, backend: 'cpu', projectFile: null };
  const key = (p: Partial<ExplainParams> & Record<string, unknown>) => explainKeyString(explainKey({ model: '/m.h5', ...p }, base));
  assert.equal(key({ jobId: 'a', workDoneToken: 't1' }), key({ jobId: 'b', workDoneToken: 't2' }));
  assert.equal(key({}), key({ target: 'argmax', layerShares: true }), 'the defaults spelled out are the same request');
  assert.notEqual(key({}), key({ target: 3 }));
  assert.notEqual(key({}), key({ variant: 'blank' }));
  assert.notEqual(key({}), key({ layerShares: false }));
  assert.notEqual(key({}), key({ samples: { indices: [1] } }));
  // A request field this module does not name yet (a later composite option) still separates entries.
  assert.notEqual(key({}), key({ epsilon: 0.5 }));
});

/** The state without a client: only the path and glob questions are asked of it. */
function bareState(): ServerState {
  const log = { log: () => undefined, error: () => undefined };
  return new ServerState({ console: log } as unknown as Connection);
}

test('confined paths: inside a root (after symlinks), or allowed; roots resolved again when they change', () => {
  const dir = scratchDir('lsp-state-confined');
  rmSync(dir, { recursive: true, force: true });
  for (const d of ['a', 'b', 'outside']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'a', 'm.h5'), 'x');
  writeFileSync(join(dir, 'outside', 'secret.npy'), 'x');
  symlinkSync(join(dir, 'outside', 'secret.npy'), join(dir, 'a', 'link.npy'));
  symlinkSync(join(dir, 'a'), join(dir, 'a-link'));
  const state = bareState();
  state.roots = [join(dir, 'a-link')]; // a root that is itself a symlink: judged by its real path
  assert.equal(state.confined(join(dir, 'a', 'm.h5'), 'model file'), join(dir, 'a', 'm.h5'));
  assert.throws(() => state.confined(join(dir, 'a', 'link.npy'), 'data file'), (e: { code?: string }) => e.code === 'BAD_INPUT');
  assert.throws(() => state.confined('m.h5', 'model file'), (e: { code?: string }) => e.code === 'BAD_INPUT');
  assert.throws(() => state.confined(join(dir, 'a', 'none.h5'), 'model file'), (e: { code?: string }) => e.code === 'FILE_NOT_FOUND');
  state.roots = [join(dir, 'b')];
  assert.throws(() => state.confined(join(dir, 'a', 'm.h5'), 'model file'), (e: { code?: string }) => e.code === 'BAD_INPUT');
  // A root that appears later is found then (a failed resolution is not cached).
  state.roots = [join(dir, 'c')];
  mkdirSync(join(dir, 'c'));
  writeFileSync(join(dir, 'c', 'm.onnx'), 'x');
  assert.equal(state.confined(join(dir, 'c', 'm.onnx'), 'model file'), join(dir, 'c', 'm.onnx'));
});

test('the model globs follow the settings', () => {
  const dir = scratchDir('lsp-state-globs');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'm.h5'), 'x');
  writeFileSync(join(dir, 'm.tflite'), 'x');
  const state = bareState();
  state.roots = [dir];
  assert.equal(state.modelOf(join(dir, 'm.h5')), join(dir, 'm.h5'));
  assert.equal(state.modelOf(join(dir, 'm.tflite')), undefined);
  state.applySettings({ ...DEFAULT_SETTINGS, modelGlobs: ['**/*.tflite'] });
  assert.equal(state.modelOf(join(dir, 'm.h5')), undefined);
  assert.equal(state.modelOf(join(dir, 'm.tflite')), join(dir, 'm.tflite'));
});
