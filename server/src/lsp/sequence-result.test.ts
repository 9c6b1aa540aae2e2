/**
 * The explain result's `sequence` field through the language server: the LSTM fixture and the real
 * sunspot LSTM on .npy samples (time x features, nothing to put on a globe), and the ESN sample fed the
 * ERSSTv5 field column by column by its lrp-lens.json entry (time = lon, features = lat), whose maps come
 * back on the lat x lon grid as well, cell for cell the pipeline's own inverse.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REAL, REPO, SAMPLES, scratchDir } from '../testing/paths.js';
import { startClient, type TestClient } from '../testing/lsp-client.js';
import type { EncodedArray, ExplainResult } from '../protocol.js';

const dir = scratchDir('lsp-sequence-result');
const FIX = join(REPO, 'server/src/core/model/formats/fixtures/recurrent');
const SUNSPOT = join(REAL, 'sunspot-lstm', 'rnn_model.h5');
let client: TestClient;

const decode = (a: EncodedArray): Float32Array => {
  const b = Buffer.from(a.base64, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

before(async () => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'data'), { recursive: true });
  mkdirSync(join(dir, 'esn'), { recursive: true });
  for (const f of ['lstm.h5', 'lstm.x.npy']) copyFileSync(join(FIX, f), join(dir, f));
  if (existsSync(SUNSPOT)) copyFileSync(SUNSPOT, join(dir, 'sunspot.h5'));
  copyFileSync(join(REPO, 'server/src/core/lrp/fixtures/recurrent-lrp/sunspot12.x.npy'), join(dir, 'sunspot12.x.npy'));
  copyFileSync(join(SAMPLES, 'models/esn_columns/model.onnx'), join(dir, 'esn/model.onnx'));
  for (const f of ['ersstv5_anom_5deg_1980-2018.nc', 'cpc_nino34_ersst5.txt']) copyFileSync(join(SAMPLES, 'data', f), join(dir, 'data', f));
  // The samples' own ESN entry, as written there (model path and data relative to this folder).
  const samples = JSON.parse(readFileSync(join(SAMPLES, 'lrp-lens.json'), 'utf8')) as { models: { name: string; model: string }[] };
  const esn = samples.models.find((m) => m.name === 'esn_columns')!;
  writeFileSync(join(dir, 'lrp-lens.json'), JSON.stringify({ models: [{ ...esn, model: 'esn/model.onnx' }] }, null, 2));
  client = await startClient(dir);
});

after(async () => {
  await client?.close();
});

const explain = (model: string, extra: Record<string, unknown>) =>
  client.conn.sendRequest('lrpLens/explain', { model: pathToFileURL(join(dir, model)).href, composite: 'epsilon', ...extra }) as Promise<ExplainResult>;

test('the LSTM fixture on .npy samples (tfjs engine): time on axis 1, 6 steps of 3 features, recurrent, no field to put back', async () => {
  const r = await explain('lstm.h5', { samples: { data: join(dir, 'lstm.x.npy') } });
  assert.equal(r.layout, 'NWC');
  // LSTM cells are not lowered to ONNX: the tfjs engine explains them and the result says why.
  assert.match(r.engineFallback ?? '', /LSTM cells are not lowered/);
  assert.deepEqual(r.sequence, { timeAxis: 1, featureAxis: 2, steps: 6, features: 3, recurrent: true });
  assert.deepEqual(r.relevance.shape.slice(1), [6, 3]);
});

test('the real sunspot LSTM (Conv1D + three LSTMs, an open time axis): 12 steps of one feature', { skip: !existsSync(SUNSPOT) && 'shared real models not present' }, async () => {
  const r = await explain('sunspot.h5', { samples: { data: join(dir, 'sunspot12.x.npy') } });
  assert.deepEqual(r.sequence, { timeAxis: 1, featureAxis: 2, steps: 12, features: 1, recurrent: true });
});

test('the ESN sample fed ERSSTv5 column by column (ONNX Runtime): time = lon, features = lat, and the maps back on the 24 x 72 grid cell for cell', async () => {
  const r = await explain('esn/model.onnx', { samples: { maxSamples: 3 } });
  // The leaky reservoir is unrolled on ONNX Runtime (core/lrp-onnx/lower-recurrent.ts).
  assert.equal(r.backend, 'onnxruntime', r.engineFallback);
  const q = r.sequence!;
  assert.ok(q, 'a sequence');
  assert.deepEqual([q.timeAxis, q.featureAxis, q.steps, q.features, q.recurrent], [1, 2, 72, 24, true]);
  assert.equal(q.timeDim, 'lon');
  assert.equal(q.reverse, false);
  assert.deepEqual(q.featureDims, ['lat']);
  const g = q.toGrid!;
  assert.deepEqual(g.relevance.shape, [3, 24, 72]);
  assert.equal(g.coords.lat.length, 24);
  assert.equal(g.coords.lon.length, 72);
  // Step t is longitude column t, feature f latitude row f: the globe holds the same values, moved.
  const rel = decode(r.relevance), globe = decode(g.relevance);
  const x = decode(r.input!), gx = decode(g.input!);
  for (let s = 0; s < 3; s++) {
    for (let t = 0; t < 72; t++) {
      for (let f = 0; f < 24; f++) {
        assert.equal(globe[(s * 24 + f) * 72 + t], rel[(s * 72 + t) * 24 + f]);
        assert.equal(gx[(s * 24 + f) * 72 + t], x[(s * 72 + t) * 24 + f]);
      }
    }
  }
  let nonzero = 0;
  for (const v of globe) if (v !== 0) nonzero++;
  assert.ok(nonzero > 1000, `the maps are not empty (${nonzero} non-zero cells)`);
});
