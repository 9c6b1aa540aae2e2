/** `lrp-lens bench --json`: the documented object shape (figures are reported, never asserted on). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { main } from '../cli.js';
import { REF } from '../testing/paths.js';

test('bench --json gives default, wasm and cpu members with samplesPerSecond, singleSampleMs, peakRssMb', async () => {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((c: string | Uint8Array, ...rest: unknown[]) =>
    typeof c === 'string' ? (chunks.push(c), true) : (write as (...a: unknown[]) => boolean)(c, ...rest)) as typeof process.stdout.write;
  let code: number;
  try {
    code = await main(['bench', '--model', join(REF, 'cnn_same', 'model.h5'), '--input', join(REF, 'cnn_same', 'x_nhwc.npy'), '--runs', '1', '--stream', '16', '--json']);
  } finally {
    process.stdout.write = write;
  }
  assert.equal(code, 0);
  const j = JSON.parse(chunks.join(''));
  for (const key of ['default', 'wasm', 'cpu']) {
    for (const f of ['samplesPerSecond', 'singleSampleMs', 'peakRssMb']) {
      assert.ok(Number.isFinite(j[key][f]) && j[key][f] > 0, `${key}.${f} = ${j[key]?.[f]}`);
    }
  }
  assert.equal(j.stream.samples, 16);
  assert.equal(j.stream.tensorsEnd, j.stream.tensorsStart);
});

test('bench --input-shape: parsed and checked before anything runs (shape, size, the flags it goes with)', async () => {
  const { parseInputShape } = await import('./bench.js');
  assert.deepEqual(parseInputShape('4,720,1440,1'), [4, 720, 1440, 1]);
  for (const bad of ['4', '4,0,1440,1', '4,720,x,1', '-4,720,1440,1', '4,720,1440,1.5', '', '1025,1024,1024,1']) {
    assert.throws(() => parseInputShape(bad), (e: { code?: string }) => e.code === 'USAGE', bad);
  }
  const { run } = await import('./bench.js');
  const model = join(REF, 'cnn_same', 'model.h5');
  const usage = (argv: string[], pattern: RegExp) => assert.rejects(run(argv), (e: { code?: string; message: string }) => e.code === 'USAGE' && pattern.test(e.message), argv.join(' '));
  await usage(['--input-shape', '2,8,8,1'], /goes with --model/);
  await usage(['--model', model, '--input', join(REF, 'cnn_same', 'x_nhwc.npy'), '--input-shape', '2,8,8,1'], /in place of --input/);
  await usage(['--model', model, '--input-shape', '2,8,8', '--zennit-script', 'z.py'], /4-d --input-shape/);
  await usage(['--model', model], /--model and --input go together/);
});

test('bench --model --input-shape times a seeded random batch on ONNX Runtime and says so in --json', async () => {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((c: string | Uint8Array, ...rest: unknown[]) =>
    typeof c === 'string' ? (chunks.push(c), true) : (write as (...a: unknown[]) => boolean)(c, ...rest)) as typeof process.stdout.write;
  let code: number;
  try {
    code = await main(['bench', '--model', join(REF, 'cnn_same', 'model.h5'), '--input-shape', '4,16,32,1', '--backends', 'onnxruntime', '--runs', '1', '--stream', '0', '--json']);
  } finally {
    process.stdout.write = write;
  }
  assert.equal(code, 0);
  const j = JSON.parse(chunks.join(''));
  assert.equal(j.default.backend, 'onnxruntime');
  assert.equal(j.workload.input, 'seeded random normal [4, 16, 32, 1] (NHWC)');
  // Not the default workload: no FLOP share claimed.
  assert.equal(j.workload.gflopPerSampleForward, null);
  assert.equal(j.default.shareOfPeak, undefined);
  assert.equal(j.onnxruntime.models[0].batch, 4);
  for (const f of ['samplesPerSecond', 'singleSampleMs', 'peakRssMb', 'cpuMsPerSample']) assert.ok(Number.isFinite(j.onnxruntime[f]) && j.onnxruntime[f] > 0, f);
});
