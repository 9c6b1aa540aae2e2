/**
 * Loader fuzzing (issue 2): every fixture mutated (flipped bytes, truncation, deleted or retyped JSON
 * fields, edits inside an HDF5 file's embedded JSON config), a few hundred runs in total, seeded. Each
 * run must load (and, for small inputs, run) or throw a LensError with a specific code, within 2 s of
 * CPU time (CPU, not wall clock: the test machine is shared, and a busy neighbour must not fail it);
 * a run that does not answer at all within HANG_MS is a hang. INTERNAL counts as a failure: it means
 * some exception escaped a loader's own checks.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BENCH, REAL, REF, scratchDir } from '../../testing/paths.js';
import { kerasConfigToV3, readKerasH5Raw, writeKerasH5, writeKerasWeightsH5 } from './writers/keras-h5-writer.js';
import { writeKerasZip } from './writers/keras-zip-writer.js';
import type { FuzzReply, FuzzRequest } from './fuzz-worker.js';
import { mulberry32 as rng } from '../random.js';
import { FuzzTally, FuzzWorker, besideCaller, deleteOrRetype, flipBytes, pick, truncate } from '../../testing/fuzz.js';

const LIMIT_MS = 2000;
const HANG_MS = 20_000;
const dir = scratchDir('fuzz');

const rand = rng(20261127);

/** A model fixture: the file to load plus files that must sit next to it (TF.js shards, weights). */
interface Fixture {
  name: string;
  main: string;
  companions: string[];
  json: boolean;
}

async function fixtures(): Promise<Fixture[]> {
  const list: Fixture[] = [];
  const add = (main: string, companions: string[] = []) =>
    list.push({ name: `${basename(dirname(main))}-${basename(main)}`, main, companions, json: main.endsWith('.json') });
  for (const m of ['mlp', 'cnn_same']) {
    add(join(REF, m, 'model.h5'));
    add(join(REF, m, 'model.onnx'));
    add(join(REF, m, 'tfjs', 'model.json'), [join(REF, m, 'tfjs', 'group1-shard1of1.bin')]);
  }
  add(join(BENCH, 'sst_cnn.h5'));
  add(join(BENCH, 'sst_cnn.onnx'));
  add(join(BENCH, 'sst_cnn_tfjs', 'model.json'), [join(BENCH, 'sst_cnn_tfjs', 'group1-shard1of1.bin')]);
  for (const sub of readdirSync(REAL)) {
    const d = join(REAL, sub);
    let files: string[];
    try {
      files = readdirSync(d);
    } catch {
      continue;
    }
    const json = files.find((f) => f.endsWith('.json'));
    if (json) add(join(d, json), files.filter((f) => f !== json).map((f) => join(d, f)));
    else for (const f of files.filter((f) => /\.(h5|onnx|keras)$/.test(f))) add(join(d, f));
  }
  // Formats with no file in shared/: made from the reference model with the Keras writers.
  const raw = await readKerasH5Raw(join(REF, 'cnn_same', 'model.h5'));
  const made = join(dir, 'made');
  mkdirSync(made, { recursive: true });
  await writeKerasZip(join(made, 'cnn.keras'), kerasConfigToV3(raw.config), raw.weights);
  add(join(made, 'cnn.keras'));
  await writeKerasH5(join(made, 'cnn_k3.h5'), kerasConfigToV3(raw.config), raw.weights, { style: 'keras3', kerasVersion: '3.3.3', scope: 'sequential' });
  add(join(made, 'cnn_k3.h5'));
  writeFileSync(join(made, 'cnn.json'), JSON.stringify({ ...raw.config, keras_version: '2.11.0', backend: 'tensorflow' }));
  await writeKerasWeightsH5(join(made, 'cnn_weights.h5'), raw.weights, { style: 'keras2', layout: 'legacy', layerNames: raw.layerNames });
  add(join(made, 'cnn.json'), [join(made, 'cnn_weights.h5')]);
  return list;
}

// ---- mutations ----------------------------------------------------------------------------------

const RETYPE: unknown[] = [null, -1, 0, 1e12, 'x', '', [], {}, true, [1e9, 1e9], [-3]];

/** Delete a field or give it a value of another type. */
function mutateJson(text: string): Uint8Array {
  const doc = JSON.parse(text) as Record<string, unknown>;
  deleteOrRetype(rand, doc, RETYPE);
  return new TextEncoder().encode(JSON.stringify(doc));
}

/** Same-length edits inside an embedded JSON text (an HDF5 model_config attribute): keeps the container valid. */
function mutateEmbeddedJson(b: Uint8Array): Uint8Array | null {
  const text = Buffer.from(b).toString('latin1');
  const starts: number[] = [];
  for (let i = text.indexOf('{"class_name"'); i >= 0 && starts.length < 50; i = text.indexOf('{"class_name"', i + 1)) starts.push(i);
  if (!starts.length) return null;
  const out = Uint8Array.from(b);
  const s = pick(rand, starts);
  for (let k = 0; k < 3; k++) {
    const at = s + Math.floor(rand() * Math.min(4000, b.length - s));
    const c = out[at];
    // digits to other digits (sizes, shapes), letters to other letters (names, classes), else a quote or brace.
    if (c >= 48 && c <= 57) out[at] = 48 + Math.floor(rand() * 10);
    else if (c >= 97 && c <= 122) out[at] = 97 + Math.floor(rand() * 26);
    else out[at] = pick(rand, [34, 123, 125, 44, 58, 93]);
  }
  return out;
}

interface Case {
  label: string;
  main: string;
}

function makeCases(fx: Fixture[], perFixture: number): Case[] {
  const cases: Case[] = [];
  for (const f of fx) {
    const bytes = new Uint8Array(readFileSync(f.main));
    for (let i = 0; i < perFixture; i++) {
      const d = join(dir, f.name.replace(/[^\w.-]/g, '_'), String(i));
      mkdirSync(d, { recursive: true });
      const mainOut = join(d, basename(f.main));
      let kind: string;
      let data: Uint8Array | null = null;
      const r = rand();
      if (f.json && r < 0.5) {
        kind = 'json-field';
        data = mutateJson(new TextDecoder().decode(bytes));
      } else if (!f.json && f.main.endsWith('.h5') && r < 0.35) {
        kind = 'embedded-json';
        data = mutateEmbeddedJson(bytes);
      }
      if (!data) {
        kind = r < 0.75 ? 'flip' : 'truncate';
        data = kind === 'flip' ? flipBytes(rand, bytes) : truncate(rand, bytes);
      }
      writeFileSync(mainOut, data);
      // Companions: mostly intact, sometimes damaged too (a shard or weights file).
      for (const c of f.companions) {
        const target = join(d, basename(c));
        if (rand() < 0.2) {
          const cb = new Uint8Array(readFileSync(c));
          writeFileSync(target, rand() < 0.5 ? flipBytes(rand, cb) : truncate(rand, cb));
        } else copyFileSync(c, target);
      }
      cases.push({ label: `${f.name} #${i} (${kind!})`, main: mainOut });
    }
  }
  return cases;
}

// ---- worker pool of one -------------------------------------------------------------------------

const worker = new FuzzWorker<FuzzRequest, FuzzReply>(besideCaller(import.meta.url, 'fuzz-worker'));
after(() => worker.close());
const send = (req: Omit<FuzzRequest, 'id'>, timeoutMs: number) => worker.send(req, timeoutMs);
/** An intact file, not timed (start-up: wasm, h5wasm); the worker must not crash on it. */
const warmUp = async (path: string) => assert.notEqual(await send({ path, runBelow: 0 }, 60_000), 'crash', `${path}: the worker crashed`);

test('fuzzed model files load or fail with a LensError, each within 2 s', async () => {
  const fx = await fixtures();
  assert.ok(fx.length >= 20, `found ${fx.length} fixtures`);
  // Warm-up (not timed): wasm and h5wasm start-up, one intact file of each kind.
  for (const f of fx.slice(0, 3)) await warmUp(f.main);
  await warmUp(join(REF, 'cnn_same', 'model.h5'));
  const cases = makeCases(fx, 12);
  const tally = new FuzzTally();
  const times: [number, string][] = [];
  for (const c of cases) {
    const r = await send({ path: c.main, runBelow: 20_000 }, HANG_MS);
    if (r === 'timeout' || r === 'crash') {
      tally.lost(c.label, r, HANG_MS);
      await warmUp(join(REF, 'cnn_same', 'model.h5'));
      continue;
    }
    times.push([r.cpuMs, `${c.label} ${r.outcome}`]);
    tally.add(c.label, r, LIMIT_MS);
  }
  console.log(`# fuzz: ${cases.length} runs over ${fx.length} fixtures; outcomes ${tally}; most CPU ${times.sort((a, b) => b[0] - a[0]).slice(0, 3).map(([ms, l]) => `${l} ${ms.toFixed(0)} ms`).join(', ')}`);
  assert.ok(cases.length >= 200);
  assert.deepEqual(tally.failures, []);
});
