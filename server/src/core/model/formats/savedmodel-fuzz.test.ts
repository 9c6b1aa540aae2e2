/**
 * Damaged SavedModels: truncated and re-typed checkpoint tables, wrong CRCs, lying sizes and offsets,
 * missing shards, deep and cyclic object graphs, and seeded random byte flips and truncations. Each
 * must load or fail with a structured LensError (never INTERNAL), within the fuzz tests' CPU budget.
 * The loads are bounded loops (no worker needed to catch hangs): CPU time is measured in-process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REAL, REPO, scratchDir } from '../../../testing/paths.js';
import { mulberry32 } from '../../random.js';
import { flipBytes, runCase, truncate } from '../../../testing/fuzz.js';
import { LensError, type ErrorCode } from '../../errors.js';
import { loadModel } from '../load.js';
import { crc32c, maskCrc } from './crc32c.js';
import { Checkpoint, OBJECT_GRAPH_KEY } from './tf-checkpoint.js';
import { decodeProto, encodeProto, type BundleEntry, type SavedModelWithGraph, type TrackableObjectGraph } from './savedmodel-proto.js';

const LIMIT_MS = 2000;
// The sources' folder (tests run compiled from out/, where the fixtures are not copied).
const FIX = join(REPO, 'server', 'src', 'core', 'model', 'formats', 'fixtures');
const TF24 = join(FIX, 'savedmodel-tf24', 'model');
const EXPORT = join(FIX, 'savedmodel-tf24', 'export');
const REAL_DIR = join(REAL, 'savedmodel-target-temp', 'test_ssp370_1.5_gcmsubALL_shash2_rng8889_seed1257_model');
const dir = scratchDir('savedmodel-fuzz');
const FILES = ['saved_model.pb', 'keras_metadata.pb', 'variables/variables.index', 'variables/variables.data-00000-of-00001'];

let caseNo = 0;
function copyModel(from: string): string {
  const to = join(dir, String(caseNo++));
  rmSync(to, { recursive: true, force: true });
  mkdirSync(join(to, 'variables'), { recursive: true });
  for (const f of FILES) {
    try {
      copyFileSync(join(from, f), join(to, f));
    } catch {
      /* keras_metadata.pb only in the real model */
    }
  }
  return to;
}

/** Load and classify: the error code, 'loaded', or a failure message; checks the CPU budget. */
async function outcome(path: string): Promise<string> {
  const r = await runCase(async () => {
    await loadModel(path);
    return 'loaded' as const;
  });
  if (r.outcome === 'other-error') return `not a LensError: ${r.message}`;
  const result = r.outcome === 'loaded' ? r.outcome : r.code === 'INTERNAL' ? `INTERNAL: ${r.message}` : (r.code as string);
  return r.cpuMs > LIMIT_MS ? `took ${r.cpuMs.toFixed(0)} ms of CPU` : result;
}

async function expectCode(path: string, codes: ErrorCode[], message?: RegExp): Promise<void> {
  const c0 = process.cpuUsage();
  try {
    await loadModel(path);
    assert.fail(`expected ${codes.join('/')}, but it loaded`);
  } catch (e) {
    assert.ok(e instanceof LensError, `not a LensError: ${String(e)}`);
    assert.ok(codes.includes(e.code), `code ${e.code}: ${e.message}`);
    if (message) assert.match(e.message, message);
  }
  const c = process.cpuUsage(c0);
  assert.ok((c.user + c.system) / 1000 <= LIMIT_MS, 'CPU budget');
}

// ---- a LevelDB table writer (test side), to re-write checkpoints with edited entries

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function block(entries: [Uint8Array, Uint8Array][]): Uint8Array {
  const out: number[] = [];
  for (const [k, v] of entries) for (const x of [...varint(0), ...varint(k.length), ...varint(v.length), ...k, ...v]) out.push(x);
  out.push(0, 0, 0, 0, 1, 0, 0, 0); // one restart point, at 0
  return Uint8Array.from(out);
}

function writeTable(entries: [string, Uint8Array][], indexRepeats = 1): Uint8Array {
  const parts: number[] = [];
  const put = (data: Uint8Array): number[] => {
    const off = parts.length;
    const withType = Uint8Array.from([...data, 0]);
    const crc = new Uint8Array(4);
    new DataView(crc.buffer).setUint32(0, maskCrc(crc32c(withType)), true);
    for (const x of [...withType, ...crc]) parts.push(x);
    return [...varint(off), ...varint(data.length)];
  };
  const enc = new TextEncoder();
  const data = put(block(entries.map(([k, v]) => [enc.encode(k), v])));
  const meta = put(block([]));
  const last = entries[entries.length - 1][0];
  const index = put(block(Array.from({ length: indexRepeats }, (_, i) => [enc.encode(`${last}\u00ff${i}`), Uint8Array.from(data)])));
  const footer = new Uint8Array(48);
  footer.set([...meta, ...index]);
  footer.set([0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb], 40);
  return Uint8Array.from([...parts, ...footer]);
}

/** Re-write a copy's index with `edit` applied to its entries (and optionally a new object graph). */
function rewriteIndex(d: string, edit: (key: string, e: BundleEntry) => BundleEntry | null, graph?: TrackableObjectGraph, indexRepeats = 1): void {
  const c = new Checkpoint(join(d, 'variables', 'variables'));
  const shard = join(d, 'variables', 'variables.data-00000-of-00001');
  const out: [string, Uint8Array][] = [['', encodeProto('BundleHeaderProto', c.header)]];
  for (const [k, e0] of [...c.entries].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    let e: BundleEntry | null = e0;
    if (k === OBJECT_GRAPH_KEY && graph) {
      // Append the new graph to the shard as a TF string tensor.
      const bytes = encodeProto('TrackableObjectGraph', graph);
      const len = new Uint8Array(4);
      new DataView(len.buffer).setUint32(0, bytes.length, true);
      const lenCrc = new Uint8Array(4);
      new DataView(lenCrc.buffer).setUint32(0, maskCrc(crc32c(len)), true);
      const raw = Uint8Array.from([...varint(bytes.length), ...lenCrc, ...bytes]);
      const old = readFileSync(shard);
      writeFileSync(shard, Buffer.concat([old, raw]));
      const crc = crc32c(bytes, crc32c(lenCrc, crc32c(len)));
      e = { ...e0, offset: old.length, size: raw.length, crc32c: maskCrc(crc) };
    }
    e = edit(k, e);
    if (e) out.push([k, encodeProto('BundleEntryProto', e)]);
  }
  writeFileSync(join(d, 'variables', 'variables.index'), writeTable(out, indexRepeats));
}

/** Size of the first data block (at offset 0): the first index-block entry's handle, via the footer. */
function firstBlockSize(t: Uint8Array): number {
  let p = t.length - 48;
  const rd = (): number => {
    let r = 0;
    for (let m = 1; ; m *= 128) {
      const x = t[p++];
      r += (x & 0x7f) * m;
      if (x < 0x80) return r;
    }
  };
  rd();
  rd(); // metaindex handle
  p = rd(); // index block offset
  rd(); // shared key bytes
  const own = rd();
  rd(); // value length
  p += own;
  rd(); // data block offset (0)
  return rd();
}

const KERNEL = 'layer_with_weights-1/variables/0/.ATTRIBUTES/VARIABLE_VALUE';

test('the test-side table writer round-trips (the rewritten copy still loads)', async () => {
  const d = copyModel(TF24);
  rewriteIndex(d, (_k, e) => e);
  assert.equal(await outcome(d), 'loaded');
});

test('truncated, damaged and compressed checkpoint tables', async () => {
  const index = new Uint8Array(readFileSync(join(TF24, 'variables', 'variables.index')));
  for (const n of [0, 10, 47, 48, 100, index.length - 49, index.length - 1]) {
    const d = copyModel(TF24);
    writeFileSync(join(d, 'variables', 'variables.index'), index.subarray(0, n));
    await expectCode(d, ['TRUNCATED', 'CORRUPT']);
  }
  // An index that points at the same data block again and again (work without bytes): refused.
  const again = copyModel(TF24);
  rewriteIndex(again, (_k, e) => e, undefined, 5000);
  await expectCode(again, ['CORRUPT'], /overlapping data blocks/);
  // A flipped byte inside the first data block: its CRC no longer matches.
  const flipped = Uint8Array.from(index);
  flipped[5] ^= 0x40;
  let d = copyModel(TF24);
  writeFileSync(join(d, 'variables', 'variables.index'), flipped);
  await expectCode(d, ['CORRUPT'], /CRC-32C/);
  // A Snappy-compressed block (type byte 1, CRC made to match): refused by name.
  const c = Uint8Array.from(index);
  const size = firstBlockSize(c);
  c[size] = 1;
  new DataView(c.buffer).setUint32(size + 1, maskCrc(crc32c(c.subarray(0, size + 1))), true);
  d = copyModel(TF24);
  writeFileSync(join(d, 'variables', 'variables.index'), c);
  await expectCode(d, ['UNSUPPORTED_CONFIG'], /Snappy-compressed/);
});

test('wrong data CRC, lying sizes and offsets, huge shapes, missing shard', async () => {
  let d = copyModel(TF24);
  const shard = join(d, 'variables', 'variables.data-00000-of-00001');
  const b = readFileSync(shard);
  b[b.length - 3] ^= 1;
  writeFileSync(shard, b);
  await expectCode(d, ['CORRUPT'], /CRC-32C/);

  d = copyModel(TF24);
  rewriteIndex(d, (k, e) => (k === KERNEL ? { ...e, size: e.size + 4 } : e));
  await expectCode(d, ['CORRUPT'], /declares \d+ bytes/);

  d = copyModel(TF24);
  rewriteIndex(d, (k, e) => (k === KERNEL ? { ...e, offset: 1e12 } : e));
  await expectCode(d, ['TRUNCATED'], /lies at bytes/);

  d = copyModel(TF24);
  rewriteIndex(d, (k, e) => (k === KERNEL ? { ...e, shape: { dim: [{ size: 1e9, name: '' }, { size: 1e9, name: '' }], unknown_rank: false }, size: 4e18 } : e));
  await expectCode(d, ['SHAPE_LIMIT']);

  d = copyModel(TF24);
  rewriteIndex(d, (k, e) => (k === KERNEL ? { ...e, shard_id: 3 } : e));
  await expectCode(d, ['CORRUPT'], /shard 3/);

  d = copyModel(TF24);
  rewriteIndex(d, (k, e) => (k === KERNEL ? null : e));
  await expectCode(d, ['MISSING_WEIGHTS']);

  d = copyModel(TF24);
  rmSync(join(d, 'variables', 'variables.data-00000-of-00001'));
  await expectCode(d, ['MISSING_WEIGHTS'], /shard variables\.data-00000-of-00001 is missing/);

  d = copyModel(TF24);
  rmSync(join(d, 'variables', 'variables.index'));
  await expectCode(d, ['MISSING_WEIGHTS'], /variables\.index is missing/);
});

test('deep, cyclic and dangling object graphs', async () => {
  const pbOf = (d: string) => join(d, 'saved_model.pb');
  const load = (d: string) => decodeProto('SavedModel', readFileSync(pbOf(d)), 'saved_model.pb', pbOf(d));
  // saved_model.pb: a child pointing outside the graph.
  let d = copyModel(TF24);
  let sm = load(d);
  let nodes = sm.meta_graphs[0].object_graph_def?.nodes ?? [];
  nodes[2].children.push({ node_id: 99999, local_name: 'ghost' });
  writeFileSync(pbOf(d), encodeProto('SavedModel', sm));
  await expectCode(d, ['CORRUPT'], /node 99999/);
  // saved_model.pb: every node a child of every other (cycles) plus a 50 000-node chain: loads.
  d = copyModel(TF24);
  sm = load(d);
  nodes = sm.meta_graphs[0].object_graph_def?.nodes ?? [];
  const n0 = nodes.length;
  for (let i = 0; i < n0; i++) for (let j = 0; j < n0; j++) nodes[i].children.push({ node_id: j, local_name: `c${j}` });
  for (let i = 0; i < 50_000; i++) {
    nodes[nodes.length - 1].children.push({ node_id: nodes.length, local_name: 'next' });
    nodes.push({ children: [] });
  }
  writeFileSync(pbOf(d), encodeProto('SavedModel', sm));
  assert.equal(await outcome(d), 'loaded');
  // Checkpoint object graph: a cycle through the layers, and a deep chain; the weights still resolve.
  d = copyModel(TF24);
  const g = new Checkpoint(join(TF24, 'variables', 'variables')).objectGraph();
  for (const n of g.nodes) n.children.push({ node_id: 0, local_name: 'back' });
  for (let i = 0; i < 20_000; i++) {
    g.nodes[g.nodes.length - 1].children.push({ node_id: g.nodes.length, local_name: 'deeper' });
    g.nodes.push({ children: [], attributes: [] });
  }
  rewriteIndex(d, (_k, e) => e, g);
  assert.equal(await outcome(d), 'loaded');
  // Checkpoint object graph with a dangling child.
  d = copyModel(TF24);
  const g2 = new Checkpoint(join(TF24, 'variables', 'variables')).objectGraph();
  g2.nodes[1].children.push({ node_id: -5, local_name: 'x' });
  rewriteIndex(d, (_k, e) => e, g2);
  await expectCode(d, ['CORRUPT']);
  // A checkpoint whose root lost the layer's name: its variables are found by full name, same values.
  d = copyModel(TF24);
  const g4 = new Checkpoint(join(TF24, 'variables', 'variables')).objectGraph();
  g4.nodes[0].children = g4.nodes[0].children.filter((c) => c.local_name !== 'layer_with_weights-2');
  rewriteIndex(d, (_k, e) => e, g4);
  const [byName, orig] = [await loadModel(d), await loadModel(TF24)];
  const outOf = (g: typeof orig) => g.nodes.find((n) => n.name === 'out')?.weights.kernel.data;
  assert.deepEqual(outOf(byName), outOf(orig));
  assert.ok(outOf(orig));
  // A checkpoint whose object graph lost the layer: MISSING_WEIGHTS, naming the layer.
  d = copyModel(TF24);
  const g3 = new Checkpoint(join(TF24, 'variables', 'variables')).objectGraph();
  g3.nodes[0].children = g3.nodes[0].children.filter((c) => c.local_name !== 'layer_with_weights-2');
  for (const n of g3.nodes) n.attributes = n.attributes.filter((a) => a.full_name !== 'out/kernel');
  rewriteIndex(d, (_k, e) => e, g3);
  await expectCode(d, ['MISSING_WEIGHTS']);
});

test('op graphs: a function that calls itself, a call of a missing function, a huge constant', async () => {
  const edit = (f: (sm: SavedModelWithGraph) => void): string => {
    const d = copyModel(EXPORT);
    const pb = join(d, 'saved_model.pb');
    const sm = decodeProto('SavedModelWithGraph', readFileSync(pb), 'saved_model.pb', pb);
    f(sm);
    writeFileSync(pb, encodeProto('SavedModelWithGraph', sm));
    return d;
  };
  const fnNamed = (sm: SavedModelWithGraph, name: string) => sm.meta_graphs[0].graph_def?.library?.function.find((x) => x.signature?.name === name);
  // The test-side round trip keeps the model loadable.
  assert.equal(await outcome(edit(() => undefined)), 'loaded');
  // serve calls the wrapper, which calls serve: bounded by the call depth / node limits.
  let d = edit((sm) => {
    const serve = fnNamed(sm, '__inference_serve_20');
    const call = fnNamed(sm, '__inference_signature_wrapper_30')?.node_def[0];
    assert.ok(serve && call);
    serve.node_def.push({ ...call, name: 'again', input: ['inputs', ...(serve.signature?.input_arg.slice(1).map((a) => a.name) ?? [])] });
    const id = serve.node_def.find((n) => n.name === 'Identity');
    assert.ok(id);
    id.input = ['again:output:0'];
  });
  await expectCode(d, ['UNSUPPORTED_CONFIG', 'SHAPE_LIMIT'], /nest deeper|more than/);
  d = edit((sm) => {
    const call = sm.meta_graphs[0].graph_def?.node.find((n) => n.op === 'StatefulPartitionedCall');
    assert.ok(call?.attr.f.func);
    call.attr.f.func.name = 'nowhere';
  });
  await expectCode(d, ['CORRUPT'], /nowhere/);
  d = edit((sm) => {
    const c = fnNamed(sm, '__inference_serve_20')?.node_def.find((n) => n.op === 'Const');
    assert.ok(c?.attr.value.tensor);
    c.attr.value.tensor.tensor_shape = { dim: [{ size: 1e6, name: '' }, { size: 1e6, name: '' }], unknown_rank: false };
  });
  await expectCode(d, ['SHAPE_LIMIT']);
});

test('seeded random flips and truncations of every SavedModel file', async () => {
  const rand = mulberry32(20261206);
  const failures: string[] = [];
  const tally = new Map<string, number>();
  const runs: [string, number][] = [[TF24, 50], [EXPORT, 40], [REAL_DIR, 24]];
  for (const [src, count] of runs) {
    for (let i = 0; i < count; i++) {
      const d = copyModel(src);
      const files = FILES.filter((f) => existsSync(join(d, f)));
      const f = files[Math.floor(rand() * files.length)];
      const p = join(d, f);
      const b = new Uint8Array(readFileSync(p));
      writeFileSync(p, rand() < 0.7 ? flipBytes(rand, b) : truncate(rand, b));
      const r = await outcome(d);
      tally.set(r, (tally.get(r) ?? 0) + 1);
      if (/^(not a LensError|INTERNAL|took)/.test(r)) failures.push(`${src} #${i} ${f}: ${r}`);
    }
  }
  console.log(`# savedmodel fuzz outcomes ${JSON.stringify(Object.fromEntries(tally))}`);
  assert.deepEqual(failures, []);
});
