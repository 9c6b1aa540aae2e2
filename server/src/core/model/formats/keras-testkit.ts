/** Test helpers for the Keras-family loaders: compare two graphs, expect a LensError code. */
import assert from 'node:assert/strict';
import { LensError, type ErrorCode } from '../../errors.js';
import type { ModelGraph } from '../graph.js';

/** Same nodes, kinds, params, inbound, activations and bit-identical weights (names may be mapped). */
export function assertSameGraph(a: ModelGraph, b: ModelGraph, rename: (n: string) => string = (n) => n): void {
  assert.deepEqual(
    a.nodes.map((n) => rename(n.name)),
    b.nodes.map((n) => n.name),
    'node order',
  );
  a.nodes.forEach((na, i) => {
    const nb = b.nodes[i];
    assert.equal(na.kind, nb.kind, `kind of ${nb.name}`);
    assert.deepEqual(na.params, nb.params, `params of ${nb.name}`);
    assert.deepEqual(na.inbound.map(rename), nb.inbound, `inbound of ${nb.name}`);
    assert.deepEqual(na.activation, nb.activation, `activation of ${nb.name}`);
    assert.deepEqual(Object.keys(na.weights).sort(), Object.keys(nb.weights).sort(), `weights of ${nb.name}`);
    for (const [k, w] of Object.entries(na.weights)) {
      assert.deepEqual(w.shape, nb.weights[k].shape, `${nb.name}.${k} shape`);
      assert.ok(Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength).equals(
        Buffer.from(nb.weights[k].data.buffer, nb.weights[k].data.byteOffset, nb.weights[k].data.byteLength),
      ), `${nb.name}.${k} values`);
    }
  });
  assert.deepEqual(a.inputs.map((s) => s.fileShape), b.inputs.map((s) => s.fileShape), 'input shapes');
  assert.deepEqual(a.outputs.map((s) => rename(s.node)), b.outputs.map((s) => s.node), 'outputs');
}

/** Await `p` and check it fails with a LensError of `code` (and, optionally, naming `layer`). */
export async function expectLensError(p: Promise<unknown>, code: ErrorCode, layer?: string): Promise<LensError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof LensError, `expected a LensError, got ${String(e)}`);
    assert.equal(e.code, code, `code (message: ${e.message})`);
    if (layer !== undefined) assert.equal(e.layer, layer, `layer (message: ${e.message})`);
    return e;
  }
  assert.fail(`expected LensError ${code}, but it loaded`);
}

/** Nodes come after every node they read from. */
export function assertTopological(g: ModelGraph): void {
  const seen = new Set<string>();
  for (const n of g.nodes) {
    for (const s of n.inbound) assert.ok(seen.has(s), `${n.name} comes before its input ${s}`);
    seen.add(n.name);
  }
}
