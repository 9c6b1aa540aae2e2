/** loadModel's own checks: missing, too large, empty, unknown files; folders; weights option; shapes filled. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REF, REAL, scratchDir } from '../../testing/paths.js';
import { loadModel } from './load.js';
import { LensError, type ErrorCode } from '../errors.js';

const dir = scratchDir('load');

async function refused(p: Promise<unknown>, code: ErrorCode, file: string): Promise<LensError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof LensError, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.file, file);
    return e;
  }
  assert.fail(`expected ${code}`);
}

test('a missing file, a file over the size limit, an empty file and an unknown format are refused with the file named', async () => {
  await refused(loadModel(join(dir, 'nope.h5')), 'FILE_NOT_FOUND', join(dir, 'nope.h5'));
  const h5 = join(REF, 'mlp', 'model.h5');
  await refused(loadModel(h5, { maxBytes: 1000 }), 'FILE_TOO_LARGE', h5);
  const empty = join(dir, 'empty.onnx');
  writeFileSync(empty, '');
  await refused(loadModel(empty), 'TRUNCATED', empty);
  const text = join(dir, 'notes.json');
  writeFileSync(text, JSON.stringify({ hello: 'world', list: [1, 2, 3] }));
  const e = await refused(loadModel(text), 'FORMAT_UNKNOWN', text);
  assert.match(e.message, /JSON/);
  const bin = join(dir, 'random.bin');
  writeFileSync(bin, Uint8Array.from({ length: 2000 }, (_, i) => (i * 7919) % 251));
  await refused(loadModel(bin), 'FORMAT_UNKNOWN', bin);
  const folder = join(dir, 'folder');
  mkdirSync(folder, { recursive: true });
  await refused(loadModel(folder), 'FORMAT_UNKNOWN', folder);
});

test('a TF.js model folder loads through its model.json; every node gets a shape', async () => {
  const g = await loadModel(join(REAL, 'tfjs-abalone'));
  assert.equal(g.format.name, 'tfjs-layers');
  assert.equal(g.file, join(REAL, 'tfjs-abalone', 'model.json'));
  assert.ok(g.nodes.every((n) => n.outputShape.length >= 2));
  assert.deepEqual(g.outputs[0].fileShape, [null, 1]);
});

test('each format is detected from its bytes', async () => {
  const cases: [string, string][] = [
    [join(REF, 'cnn_same', 'model.h5'), 'keras-h5'],
    [join(REF, 'cnn_same', 'model.onnx'), 'onnx'],
    [join(REF, 'cnn_same', 'tfjs', 'model.json'), 'tfjs-layers'],
  ];
  for (const [file, name] of cases) assert.equal((await loadModel(file)).format.name, name, file);
});
