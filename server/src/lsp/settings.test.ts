import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SETTINGS } from '../protocol.js';
import { checkSettings } from './settings.js';

test('settings: wrong-typed values fall back to their defaults and are named; good values pass', () => {
  const { settings, problems } = checkSettings({
    workers: 'abc',
    memoryLimitMB: 0,
    maxFileSizeMB: Number.NaN,
    backend: 'gpu-please',
    composite: 5,
    compositeParams: { epsilon: 'big' },
    modelGlobs: ['**/*.h5', '../../../**', '/etc/*'],
    exclude: 'node_modules',
    disabledChecks: ['LRP101'],
  });
  assert.equal(settings.workers, DEFAULT_SETTINGS.workers);
  assert.equal(settings.memoryLimitMB, DEFAULT_SETTINGS.memoryLimitMB);
  assert.equal(settings.maxFileSizeMB, DEFAULT_SETTINGS.maxFileSizeMB);
  assert.equal(settings.backend, DEFAULT_SETTINGS.backend);
  assert.equal(settings.composite, DEFAULT_SETTINGS.composite);
  assert.deepEqual(settings.compositeParams, DEFAULT_SETTINGS.compositeParams);
  assert.deepEqual(settings.modelGlobs, ['**/*.h5']);
  assert.deepEqual(settings.exclude, DEFAULT_SETTINGS.exclude);
  assert.deepEqual(settings.disabledChecks, ['LRP101']);
  for (const key of ['workers', 'memoryLimitMB', 'maxFileSizeMB', 'backend', 'composite', 'compositeParams', 'modelGlobs', 'exclude']) {
    assert.ok(problems.some((p) => p.startsWith(`lrpLens.${key}:`)), `${key}: ${problems.join('\n')}`);
  }
  // Layered over a base: an absent or null value keeps the base's.
  const good = checkSettings({ workers: 4, backend: 'cpu', composite: null }, { ...DEFAULT_SETTINGS, composite: 'epsilon' });
  assert.deepEqual(good.problems, []);
  assert.equal(good.settings.workers, 4);
  assert.equal(good.settings.backend, 'cpu');
  assert.equal(good.settings.composite, 'epsilon');
  assert.equal(checkSettings('nonsense').problems.length, 1);
});

test('settings: composite and backend names are the declared vocabularies (a baseline or a misspelling is refused, preset-b-flat passes)', () => {
  for (const composite of ['epsilon_plus', 'gradient', 'zplus', 'constructor', '']) {
    const { settings, problems } = checkSettings({ composite });
    assert.equal(settings.composite, DEFAULT_SETTINGS.composite, composite);
    assert.match(problems.join('\n'), /lrpLens\.composite: .*preset-b-flat/, composite);
  }
  const ok = checkSettings({ composite: 'preset-b-flat', backend: 'tensorflow-gpu' });
  assert.deepEqual(ok.problems, []);
  assert.equal(ok.settings.composite, 'preset-b-flat');
  assert.equal(ok.settings.backend, 'tensorflow-gpu');
  assert.match(checkSettings({ backend: '__proto__' }).problems.join('\n'), /lrpLens\.backend: .*webgpu/);
});
