/**
 * Graph-model fuzzing, in the manner of model/fuzz.test.ts: each graph-model fixture damaged in ways
 * specific to op graphs (flipped and truncated model.json and shards, retyped fields, rewired inputs
 * that make cycles, lying and huge declared shapes, ops renamed to other supported ops, mangled
 * attributes), seeded. Each run must load (and, when small, run) or throw a LensError other than
 * INTERNAL, within 2 s of CPU time.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REAL, REPO, scratchDir } from '../../../testing/paths.js';
import { useBackend } from '../../backend.js';
import { loadModel } from '../load.js';
import { mulberry32 } from '../../random.js';
import { FuzzTally, deleteOrRetype, flipBytes, pick as pickWith, runCase, truncate } from '../../../testing/fuzz.js';
import { loadAndRun } from '../../../testing/fuzz-model.js';

const LIMIT_MS = 2000;
// The sources' folder (tests run compiled from out/, where the fixtures are not copied).
const FIX = join(REPO, 'server', 'src', 'core', 'model', 'formats', 'fixtures');
const dir = scratchDir('tfjs-graph-fuzz');
const rand = mulberry32(20261206);
const pick = <T>(xs: readonly T[]): T => pickWith(rand, xs);
const b64 = (s: string) => Buffer.from(s).toString('base64');

const FIXTURES = [
  join(FIX, 'tfjs-graph-cnn'),
  join(FIX, 'tfjs-graph-cnn-uint8'),
  join(FIX, 'tfjs-graph-shapes'),
  join(FIX, 'tfjs-graph-shapes-f16'),
  join(REAL, 'tfjs-graph-tiny', 'dense_model_tf21'),
  join(REAL, 'tfjs-graph-tiny', 'rn59_graph_model_tf115'),
  join(REAL, 'tfjs-graphmodel'),
];

const RETYPE: unknown[] = [null, -1, 0, 1e12, 'x', '', [], {}, true, [1e9, 1e9], [-3], '-1', '99999999999999999999'];
const OPS = ['Conv2D', 'MatMul', 'MaxPool', 'Mean', 'Reshape', 'ConcatV2', 'Pad', 'Transpose', 'BiasAdd', 'Squeeze', 'StridedSlice', 'Pack', 'Shape', '_FusedConv2D', 'FusedBatchNormV3', 'Relu'];
const ATTRS: unknown[] = [{ i: '-5' }, { i: '0' }, { s: b64('NCHW') }, { s: b64('EXPLICIT') }, { list: { i: ['0', '0'] } }, { list: { i: ['1', '1000000', '1000000', '1'] } }, { list: { s: [b64('Nope')] } }, { f: 'NaN' }, { b: true }, {}];

/** One graph-specific edit of the parsed model.json; returns its label. */
function mutateModel(m: any): string {
  const nodes: any[] = m.modelTopology.node;
  const r = rand();
  if (r < 0.2) {
    // A field deleted or retyped anywhere.
    deleteOrRetype(rand, m, RETYPE);
    return 'json-field';
  }
  if (r < 0.35) {
    // A node reads a later node: usually a cycle.
    const users = nodes.map((n, i) => [n, i] as const).filter(([n]) => Array.isArray(n.input) && n.input.length);
    const [n, i] = pick(users);
    const later = nodes.slice(i).filter((x) => x.op !== 'Const');
    n.input[Math.floor(rand() * n.input.length)] = pick(later.length ? later : nodes).name;
    return 'rewire';
  }
  if (r < 0.5) {
    const w = pick(m.weightsManifest[0].weights as any[]);
    w.shape = rand() < 0.5 ? w.shape.map((d: number) => d * (2 + Math.floor(rand() * 3))) : [1 << 16, 1 << 16, 1 << 16];
    return 'manifest-shape';
  }
  if (r < 0.6) {
    const ph = nodes.filter((n) => n.op === 'Placeholder');
    if (ph.length) pick(ph).attr.shape = { shape: { dim: [{ size: '-1' }, { size: String(1 + Math.floor(rand() * 1e6)) }, { size: '100000' }, { size: '3' }] } };
    return 'placeholder-shape';
  }
  if (r < 0.65) {
    const cs = nodes.filter((n) => n.op === 'Const' && n.attr?.value?.tensor);
    if (cs.length) pick(cs).attr.value.tensor.tensorShape = { dim: [{ size: String(Math.floor(rand() * 50)) }] };
    return 'const-shape';
  }
  if (r < 0.8) {
    pick(nodes.filter((n) => n.op !== 'Const' && n.op !== 'Placeholder')).op = pick(OPS);
    return 'op-swap';
  }
  const n = pick(nodes.filter((x) => x.attr && Object.keys(x.attr).length));
  n.attr[pick(Object.keys(n.attr))] = pick(ATTRS);
  return 'attr';
}

interface Case {
  label: string;
  main: string;
}

function makeCases(perFixture: number): Case[] {
  const cases: Case[] = [];
  FIXTURES.forEach((src, fi) => {
    const text = readFileSync(join(src, 'model.json'), 'utf8');
    const shards: string[] = JSON.parse(text).weightsManifest.flatMap((g: { paths: string[] }) => g.paths);
    for (let k = 0; k < perFixture; k++) {
      const d = join(dir, `${fi}-${k}`);
      mkdirSync(d, { recursive: true });
      let kind: string;
      let data: Uint8Array;
      const r = rand();
      if (r < 0.6) {
        const m = JSON.parse(text);
        kind = mutateModel(m);
        data = new TextEncoder().encode(JSON.stringify(m));
      } else if (r < 0.8) {
        kind = 'flip';
        data = flipBytes(rand, new TextEncoder().encode(text));
      } else {
        kind = 'truncate';
        data = truncate(rand, new TextEncoder().encode(text));
      }
      writeFileSync(join(d, 'model.json'), data);
      for (const p of shards) {
        if (rand() < 0.15) {
          const b = new Uint8Array(readFileSync(join(src, p)));
          writeFileSync(join(d, p), rand() < 0.5 ? flipBytes(rand, b) : truncate(rand, b));
          kind += '+shard';
        } else copyFileSync(join(src, p), join(d, p));
      }
      cases.push({ label: `${src.split('/').slice(-1)[0]} #${k} (${kind})`, main: join(d, 'model.json') });
    }
  });
  return cases;
}

before(async () => {
  await useBackend('wasm');
});

test('fuzzed graph models load or fail with a LensError, each within 2 s of CPU', { timeout: 600_000 }, async () => {
  // Warm-up (not timed): the wasm backend and module loading.
  for (const f of FIXTURES.slice(0, 3)) await loadModel(f);
  const cases = makeCases(20);
  const tally = new FuzzTally();
  for (const c of cases) tally.add(c.label, await runCase(() => loadAndRun(c.main, 20_000)), LIMIT_MS);
  console.log(`# graph fuzz: ${cases.length} runs; outcomes ${tally}`);
  assert.ok(cases.length >= 140);
  assert.ok((tally.counts.get('GRAPH_CYCLE') ?? 0) > 0, 'some rewired inputs made cycles');
  assert.ok((tally.counts.get('SHAPE_LIMIT') ?? 0) > 0, 'some declared shapes were refused as too large');
  assert.deepEqual(tally.failures, []);
});
