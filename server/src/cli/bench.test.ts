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
