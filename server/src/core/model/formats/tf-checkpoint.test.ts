/**
 * The checkpoint reader against an independent python reading of the same real file
 * (fixtures/savedmodel-real-ref/read_checkpoint.py -> ref.json): every entry's shape and values, and
 * the object graph's map from full names to checkpoint keys.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REAL, REPO } from '../../../testing/paths.js';
import { Checkpoint, OBJECT_GRAPH_KEY, readTable } from './tf-checkpoint.js';
import { ObjectPaths, walkPath, checkpointVariables } from './savedmodel-objects.js';

// The sources' folder (tests run compiled from out/, where the fixtures are not copied).
const FIX = join(REPO, 'server', 'src', 'core', 'model', 'formats', 'fixtures');
const REAL_DIR = join(REAL, 'savedmodel-target-temp', 'test_ssp370_1.5_gcmsubALL_shash2_rng8889_seed1257_model');
interface RefVar { key: string; dtype: number; shape: number[]; sum: number; sumSquares: number; first: number[] }
const ref = JSON.parse(readFileSync(join(FIX, 'savedmodel-real-ref', 'ref.json'), 'utf8')) as {
  variables: RefVar[];
  fullNameToKey: Record<string, string>;
};

test('every numeric checkpoint entry equals the python reading (shape, sum, sum of squares, first values)', () => {
  const c = new Checkpoint(join(REAL_DIR, 'variables', 'variables'));
  assert.equal(c.header.num_shards, 1);
  const numeric = [...c.entries.keys()].filter((k) => k !== OBJECT_GRAPH_KEY);
  assert.deepEqual(numeric.sort(), ref.variables.map((v) => v.key).sort());
  for (const r of ref.variables) {
    const d = c.describe(r.key);
    assert.deepEqual(d.shape, r.shape, r.key);
    const v = c.readFloat32(r.key);
    let s = 0;
    let s2 = 0;
    for (const x of v) {
      s += x;
      s2 += x * x;
    }
    const tol = (want: number) => 1e-9 * Math.max(1, Math.abs(want));
    assert.ok(Math.abs(s - r.sum) <= tol(r.sum), `${r.key}: sum ${s} vs ${r.sum}`);
    assert.ok(Math.abs(s2 - r.sumSquares) <= tol(r.sumSquares), `${r.key}: sum of squares ${s2} vs ${r.sumSquares}`);
    assert.deepEqual(Array.from(v.subarray(0, 5)), r.first, r.key);
  }
});

test('the checkpoint object graph maps full names to the keys python finds, and paths lead to them', () => {
  const c = new Checkpoint(join(REAL_DIR, 'variables', 'variables'));
  const nodes = c.objectGraph().nodes;
  const map: Record<string, string> = {};
  for (const n of nodes) {
    for (const a of n.attributes) if (a.name === 'VARIABLE_VALUE') map[a.full_name] = a.checkpoint_key;
  }
  assert.deepEqual(map, ref.fullNameToKey);
  // Walking local names from the root reaches the Dense layer's kernel and bias (aliases counted once).
  const paths = new ObjectPaths(nodes, 'checkpoint', c.indexFile);
  const dense = walkPath(nodes, ['layer_with_weights-1']);
  assert.ok(dense !== undefined);
  assert.deepEqual(paths.pathTo(dense), ['layer_with_weights-1']);
  assert.deepEqual(checkpointVariables(nodes, dense), [
    { name: 'dense/kernel', key: ref.fullNameToKey['dense/kernel'] },
    { name: 'dense/bias', key: ref.fullNameToKey['dense/bias'] },
  ]);
  const norm = walkPath(nodes, ['layer_with_weights-0']) as number;
  assert.deepEqual(checkpointVariables(nodes, norm).map((v) => v.name), ['mean', 'variance', 'count']);
});

test('the table reader returns keys in order with the header first', () => {
  const file = join(REAL_DIR, 'variables', 'variables.index');
  const entries = readTable(new Uint8Array(readFileSync(file)), file);
  assert.equal(entries[0][0], '');
  assert.equal(entries.length, ref.variables.length + 2);
});
