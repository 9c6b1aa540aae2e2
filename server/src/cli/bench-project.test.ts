/** `lrp-lens bench --config --entry`: a project's model on the first samples of its data (the sample LSTM). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { main } from '../cli.js';
import { run } from './bench.js';
import { SAMPLES } from '../testing/paths.js';

test('bench --config --entry times the project model on its own data and reports the workload it ran', { timeout: 300_000 }, async () => {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((c: string | Uint8Array, ...rest: unknown[]) =>
    typeof c === 'string' ? (chunks.push(c), true) : (write as (...a: unknown[]) => boolean)(c, ...rest)) as typeof process.stdout.write;
  let code: number;
  try {
    code = await main(['bench', '--config', join(SAMPLES, 'lrp-lens.json'), '--entry', 'lstm_columns', '--backends', 'wasm', '--workers', '1', '--runs', '1', '--stream', '0', '--composite', 'epsilon', '--json']);
  } finally {
    process.stdout.write = write;
  }
  assert.equal(code, 0);
  const j = JSON.parse(chunks.join(''));
  assert.deepEqual(j.workload.models, [join(SAMPLES, 'models', 'lstm_columns', 'model.json')]);
  assert.equal(j.workload.input, 'lstm_columns: first 64 samples of its data');
  assert.equal(j.workload.composite, 'epsilon');
  assert.equal(j.wasm.models[0].batch, 64);
  for (const f of ['samplesPerSecond', 'singleSampleMs', 'peakRssMb']) assert.ok(Number.isFinite(j.default[f]) && j.default[f] > 0, `default.${f} = ${j.default[f]}`);
});

test('bench --entry and --model exclude each other; an unknown entry is named', async () => {
  await assert.rejects(run(['--entry', 'lstm_columns', '--model', 'm.h5', '--input', 'x.npy']), (e: { code?: string }) => e.code === 'USAGE');
  await assert.rejects(run(['--config', join(SAMPLES, 'lrp-lens.json'), '--entry', 'no_such_model']), (e: { message?: string }) => /no_such_model/.test(String(e.message)));
});
