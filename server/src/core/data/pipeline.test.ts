import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH, GEODATA, scratchDir } from '../../testing/paths.js';
import { buildModelInput, transpose, wrapAxis } from './pipeline.js';
import { findEntry, readProject } from './project.js';
import { HAVE_NCGEN, cdlData, fixtureProject } from '../../testing/data-files.js';
import { readNpyFile } from '../../testing/arrays.js';

const skip = HAVE_NCGEN ? false : 'ncgen (Debian netcdf-bin) is not installed';
const T = 6, Y = 4, X = 8;
const land = (y: number, x: number): boolean => (y === 0 && x < 3) || (y === 3 && x === 7);

/** sst as the CF rules define it, computed here from the CDL's stored shorts. */
function sstFromCdl(): (number | null)[] {
  const scale = Math.fround(0.01);
  return cdlData('sst').map((s) => (s === null ? null : Math.fround(s * scale + 20)));
}

test('pipeline: anomaly against the mean, /std, fill, periodic lon wrap, labels by threshold, mask "missing"', { skip }, async () => {
  const project = await readProject(fixtureProject('data-pipeline'));
  const e = findEntry(project, 'grid-cnn');
  const mi = await buildModelInput(e, [null, Y, X + 4, 1]);
  assert.deepEqual(mi.x.shape, [T, Y, X + 4, 1]);
  assert.deepEqual(mi.dims, ['time', 'lat', 'lon', 'channel']);
  const v = sstFromCdl();
  for (let y = 0; y < Y; y++) {
    for (let x = 0; x < X; x++) {
      const series = Array.from({ length: T }, (_, t) => v[(t * Y + y) * X + x]);
      const mean = land(y, x) ? NaN : series.reduce((a, b) => a! + b!, 0)! / T;
      for (let j = 0; j < X + 4; j++) {
        if ((j - 2 + X) % X !== x) continue;
        for (let t = 0; t < T; t++) {
          const got = mi.x.data[((t * Y + y) * (X + 4) + j)];
          const want = land(y, x) ? -9 : (series[t]! - mean) / 2;
          assert.ok(Math.abs(got - want) < 1e-5, `t${t} y${y} j${j}: ${got} vs ${want}`);
        }
      }
    }
  }
  // nino = -1.2, -0.3, 0.2, 0.7, 1.5, -0.6 with thresholds -0.5 and 0.5.
  assert.deepEqual(Array.from(mi.labels!), [0, 1, 1, 2, 2, 0]);
  assert.deepEqual(Array.from(mi.labelValues!), cdlData('nino').map((n) => Math.fround(n!)));
  assert.deepEqual(mi.classNames, ['La Nina', 'Neutral', 'El Nino']);
  assert.deepEqual(mi.mask!.shape, [Y, X + 4]);
  for (let y = 0; y < Y; y++) for (let j = 0; j < X + 4; j++) assert.equal(mi.mask!.data[y * (X + 4) + j], land(y, (j - 2 + X) % X) ? 0 : 1);
  // Wrapped longitudes continue monotonically (-90 is 270 E) so maps and box selections stay simple.
  assert.deepEqual(Array.from(mi.coords.lon!.values), [-90, -45, 0, 45, 90, 135, 180, 225, 270, 315, 360, 405]);
  assert.deepEqual(mi.times, ['2000-01-01', '2000-02-01', '2000-03-01', '2000-04-01', '2000-12-01', '2001-01-01']);
  assert.deepEqual(mi.explain, { composite: 'epsilon-plus-flat', target: 'label' });
});

test('pipeline: channels-first model gets NCHW; labels matched by month; mask from a variable', { skip }, async () => {
  const project = await readProject(fixtureProject('data-pipeline-nchw', 'classic'));
  const mi = await buildModelInput(findEntry(project, 'grid-nchw'), [null, 1, Y, X]);
  assert.deepEqual(mi.x.shape, [2, 1, Y, X]);
  const v = sstFromCdl();
  for (let t = 0; t < 2; t++) {
    for (let i = 0; i < Y * X; i++) {
      const s = v[(t + 1) * Y * X + i];
      assert.ok(Math.abs(mi.x.data[t * Y * X + i] - (s === null ? 0 : (s - 20) / 0.5)) < 1e-4);
    }
  }
  assert.deepEqual(Array.from(mi.labels!), cdlData('label').slice(1, 3));
  const lsm = cdlData('lsm');
  assert.deepEqual(Array.from(mi.mask!.data), lsm.map((m) => (m === 0 ? 1 : 0)));
});

test('pipeline: CSV features for an MLP, per-channel mean/std, missing -> fill 0', { skip }, async () => {
  const project = await readProject(fixtureProject('data-pipeline-csv'));
  const mi = await buildModelInput(findEntry(project, 'features-mlp'), [null, 2]);
  assert.deepEqual(mi.x.shape, [3, 2]);
  assert.deepEqual(Array.from(mi.x.data), [0, 0, 1, 2, -1, 0]);
  assert.deepEqual(Array.from(mi.labels!), [0, 1, 0]);
});

test('pipeline on the real 2-degree SST: one month for the benchmark CNN [N, 89, 180, 1], 10,988 valid cells', async (t) => {
  const sst = join(GEODATA, 'ersstv5-global-2deg-2010-2020', 'sst.mnmean.nc');
  if (!existsSync(sst)) return t.skip('shared/geodata is not present');
  const dir = scratchDir('data-pipeline-geo');
  const cfg = join(dir, 'lrp-lens.json');
  writeFileSync(cfg, JSON.stringify({
    models: [{
      name: 'sst-cnn',
      model: join(BENCH, 'sst_cnn.h5'),
      data: { file: sst, variable: 'sst', select: { time: '2015-12' } },
      input: { standardize: { anomaly: 'monthly', period: '2010-01:2019-12' }, fillValue: 0 },
      mask: 'missing',
      labels: { file: join(GEODATA, 'nino34-oni', 'ersst5.nino.mth.91-20.ascii'), variable: 'NINO3.4_ANOM', thresholds: [-0.5, 0.5] },
      classNames: ['La Nina', 'Neutral', 'El Nino'],
    }],
  }));
  const mi = await buildModelInput((await readProject(cfg)).models[0], [null, 89, 180, 1]);
  assert.deepEqual(mi.x.shape, [1, 89, 180, 1]);
  assert.equal(mi.mask!.data.reduce((a, b) => a + b, 0), 10988);
  assert.deepEqual(mi.times, ['2015-12-01']);
  // December 2015 was a strong El Nino: the Nino-3.4 box anomaly is well above +1.5 degC.
  const lat = mi.coords.lat!.values;
  const lon = mi.coords.lon!.values;
  let s = 0;
  let n = 0;
  for (let y = 0; y < 89; y++) for (let x = 0; x < 180; x++) if (Math.abs(lat[y]) <= 5 && lon[x] >= 190 && lon[x] <= 240) {
    s += mi.x.data[y * 180 + x];
    n++;
  }
  assert.ok(s / n > 1.5, `Nino-3.4 anomaly ${s / n}`);
  // CPC's Nino-3.4 anomaly for Dec 2015 (above +2 degC) makes the month El Nino.
  assert.deepEqual(Array.from(mi.labels!), [2]);
  assert.ok(mi.labelValues![0] > 2);
  // Land cells were filled with 0.
  for (let i = 0; i < 89 * 180; i++) if (!mi.mask!.data[i]) assert.equal(mi.x.data[i], 0);
  // The benchmark batch has the same layout.
  assert.deepEqual(readNpyFile(join(BENCH, 'batch64_nhwc.npy')).shape.slice(1), mi.x.shape.slice(1));
});

test('pipeline on the real 2-degree SST: a monthly anomaly against a base period uses that period only', async (t) => {
  const sst = join(GEODATA, 'ersstv5-global-2deg-2010-2020', 'sst.mnmean.nc');
  if (!existsSync(sst)) return t.skip('shared/geodata is not present');
  const dir = scratchDir('data-pipeline-period');
  const cfg = join(dir, 'lrp-lens.json');
  const entry = (name: string, select: Record<string, unknown>, input: Record<string, unknown>) => ({
    name, model: join(BENCH, 'sst_cnn.h5'), data: { file: sst, variable: 'sst', select }, input: { fillValue: 0, ...input }, mask: 'missing',
  });
  writeFileSync(cfg, JSON.stringify({
    models: [
      // Raw December values of 2010-2015, to compute the expected anomaly here.
      entry('raw', { time: '2010-12:2015-12' }, {}),
      // December 2015 against the Decembers of 2010 and 2011 only (not the whole file, not the selection).
      entry('anom', { time: '2015-12' }, { standardize: { anomaly: 'monthly', period: '2010-01:2011-12' } }),
    ],
  }));
  const project = await readProject(cfg);
  const raw = await buildModelInput(findEntry(project, 'raw'), [null, 89, 180, 1]);
  const anom = await buildModelInput(findEntry(project, 'anom'), [null, 89, 180, 1]);
  const cells = 89 * 180;
  const month = (d: string): Float32Array => {
    const k = raw.times!.indexOf(d);
    assert.ok(k >= 0, `${d} in ${raw.times}`);
    return raw.x.data.subarray(k * cells, (k + 1) * cells);
  };
  const [d10, d11, d15] = [month('2010-12-01'), month('2011-12-01'), month('2015-12-01')];
  let checked = 0;
  let worst = 0;
  for (let i = 0; i < cells; i++) {
    if (!anom.mask!.data[i]) continue;
    worst = Math.max(worst, Math.abs(anom.x.data[i] - (d15[i] - (d10[i] + d11[i]) / 2)));
    checked++;
  }
  assert.equal(checked, 10988);
  assert.ok(worst < 1e-4, `largest difference from value - mean(Dec 2010, Dec 2011): ${worst}`);
});

test('pipeline on the real 2-degree SST: flatten "valid" keeps the 10,988 ocean cells and scatters back exactly', async (t) => {
  const sst = join(GEODATA, 'ersstv5-global-2deg-2010-2020', 'sst.mnmean.nc');
  if (!existsSync(sst)) return t.skip('shared/geodata is not present');
  const dir = scratchDir('data-pipeline-valid');
  const cfg = join(dir, 'lrp-lens.json');
  const entry = (flatten: boolean | 'valid') => ({
    name: `mlp-${flatten}`,
    model: join(BENCH, 'sst_cnn.h5'),
    data: { file: sst, variable: 'sst', select: { time: '2015-11:2015-12' } },
    input: { flatten, standardize: { anomaly: 'monthly', period: '2010-01:2019-12' }, fillValue: 0 },
    mask: 'missing',
  });
  writeFileSync(cfg, JSON.stringify({ models: [entry('valid'), entry(false)] }));
  const [valid, grid] = (await readProject(cfg)).models;
  const mi = await buildModelInput(valid, [null, 10988]);
  const field = await buildModelInput(grid, [null, 89, 180, 1]);
  assert.deepEqual(mi.x.shape, [2, 10988]);
  assert.deepEqual(mi.dims, ['time', 'features']);
  const sc = mi.scatter!;
  assert.deepEqual(sc.gridShape, [89, 180, 1]);
  assert.equal(sc.indices.length, 10988);
  // Kept cells are exactly the valid (ocean) cells, in C order.
  for (let j = 1; j < sc.indices.length; j++) assert.ok(sc.indices[j] > sc.indices[j - 1]);
  const kept = new Uint8Array(89 * 180);
  for (const i of sc.indices) kept[i] = 1;
  assert.deepEqual(kept, field.mask!.data);
  // Scattering each sample's features back reproduces the field's ocean cells; land stays empty.
  for (let s = 0; s < 2; s++) {
    const back = new Float32Array(89 * 180).fill(NaN);
    for (let j = 0; j < sc.indices.length; j++) back[sc.indices[j]] = mi.x.data[s * 10988 + j];
    for (let i = 0; i < 89 * 180; i++) {
      if (field.mask!.data[i]) assert.equal(back[i], field.x.data[s * 89 * 180 + i]);
      else assert.ok(Number.isNaN(back[i]));
    }
  }
  // A model that takes every cell does not fit the ocean cells.
  await assert.rejects(buildModelInput(valid, [null, 16020]), (e: { code?: string }) => e.code === 'SHAPE_MISMATCH');
  // "valid" without a mask is a configuration error.
  await assert.rejects(buildModelInput({ ...valid, mask: undefined }, [null, 10988]), (e: { code?: string }) => e.code === 'CONFIG_ERROR');
});

test('transpose and wrapAxis', () => {
  const a = Float32Array.from([0, 1, 2, 3, 4, 5]);
  assert.deepEqual(Array.from(transpose(a, [2, 3], [1, 0]).data), [0, 3, 1, 4, 2, 5]);
  const w = wrapAxis(a, [2, 3], 1, 1);
  assert.deepEqual(w.shape, [2, 5]);
  assert.deepEqual(Array.from(w.data), [2, 0, 1, 2, 0, 5, 3, 4, 5, 3]);
});

/** A project in the fixture folder with one entry replaced. */
async function entryFrom(name: string, model: object): Promise<import('./project.js').ModelEntry> {
  const cfg = fixtureProject(name);
  writeFileSync(cfg, JSON.stringify({ models: [{ name: 'm', model: 'models/grid.onnx', ...model }] }, null, 2));
  return (await readProject(cfg)).models[0];
}

test('pipeline: stacked variables become channels; a level selection applies to the 4-D variable only', { skip }, async () => {
  const e = await entryFrom('data-pipeline-stack', { data: { file: 'grid.nc', variables: ['sst', 'ta'], select: { level: '~500', time: '0:2' } } });
  const mi = await buildModelInput(e, [null, Y, X, 2]);
  assert.deepEqual(mi.x.shape, [2, Y, X, 2]);
  const sst = sstFromCdl();
  const ta = cdlData('ta');
  for (let t = 0; t < 2; t++) {
    for (let i = 0; i < Y * X; i++) {
      const s = sst[t * Y * X + i];
      const a = ta[(t * 2 + 1) * Y * X + i]!;
      assert.ok(Math.abs(mi.x.data[(t * Y * X + i) * 2] - (s ?? 0)) < 1e-5);
      assert.equal(mi.x.data[(t * Y * X + i) * 2 + 1], a === -999 ? 0 : Math.fround(a));
    }
  }
  await assert.rejects(
    entryFrom('data-pipeline-stack2', { data: { file: 'grid.nc', variables: ['sst', 'ta'], select: { lvl: 0 } } }).then((x) => buildModelInput(x)),
    (err: Error & { code: string; keyPath: unknown[] }) => err.code === 'SELECTION_OUT_OF_RANGE' && JSON.stringify(err.keyPath) === '["models",0,"data","select","lvl"]',
  );
});

test('pipeline: monthly anomaly against a climatology file; a month it lacks is an error at that key', { skip }, async () => {
  const clim = { file: 'grid.nc', variable: 'sst', select: { time: '0:4' } };
  const e = await entryFrom('data-pipeline-clim', { data: { file: 'grid.nc', variable: 'sst', select: { time: '1:3' } }, input: { standardize: { anomaly: 'monthly', climatology: clim } }, mask: 'missing' });
  const mi = await buildModelInput(e, [null, Y, X, 1]);
  // Feb and Mar against a climatology of Jan..Apr with one value per month: the anomaly is exactly 0.
  mi.x.data.forEach((v) => assert.equal(v, 0));
  assert.equal(mi.mask!.data.reduce((a, b) => a + b, 0), Y * X - 4);
  const all = await entryFrom('data-pipeline-clim2', { data: { file: 'grid.nc', variable: 'sst' }, input: { standardize: { anomaly: 'monthly', climatology: clim } } });
  await assert.rejects(buildModelInput(all, [null, Y, X, 1]), (err: Error & { code: string; keyPath: unknown[] }) => err.code === 'DATA_ERROR' && /month 12/.test(err.message) && err.keyPath.includes('climatology'));
});

test('pipeline: an image for an NHWC and an NCHW model', async () => {
  const sharp = (await import('sharp')).default;
  const cfg = fixtureProject('data-pipeline-image');
  const png = join(cfg, '..', 'img.png');
  const raw = Uint8Array.from({ length: 4 * 2 * 3 }, (_, i) => i * 10);
  await sharp(raw, { raw: { width: 4, height: 2, channels: 3 } }).png().toFile(png);
  writeFileSync(cfg, JSON.stringify({ models: [{ model: 'models/grid.onnx', data: { file: 'img.png', image: { scale: '0-255' } }, mask: 'missing' }] }));
  const e = (await readProject(cfg)).models[0];
  const nhwc = await buildModelInput(e, [null, 2, 4, 3]);
  assert.deepEqual(nhwc.x.shape, [1, 2, 4, 3]);
  assert.deepEqual(Array.from(nhwc.x.data), Array.from(raw));
  assert.deepEqual(nhwc.mask!.shape, [2, 4]);
  const nchw = await buildModelInput(e, [null, 3, 2, 4]);
  assert.deepEqual(nchw.x.shape, [1, 3, 2, 4]);
  assert.deepEqual(nchw.dims, ['batch', 'channel', 'y', 'x']);
  for (let c = 0; c < 3; c++) for (let p = 0; p < 8; p++) assert.equal(nchw.x.data[c * 8 + p], raw[p * 3 + c]);
});

test('pipeline: a NumPy batch without a time axis gives its samples along the first dim when that fits the model', async () => {
  const cfg = fixtureProject('data-pipeline-npy');
  writeFileSync(cfg, JSON.stringify({ models: [{ model: 'models/grid.onnx', data: { file: join(BENCH, 'batch64_nhwc.npy') }, input: { sampleDim: undefined } }] }));
  const e = (await readProject(cfg)).models[0];
  const mi = await buildModelInput(e, [null, 89, 180, 1]);
  assert.deepEqual(mi.x.shape, [64, 89, 180, 1]);
  const ref = readNpyFile(join(BENCH, 'batch64_nhwc.npy'));
  const want = ref.data as Float32Array;
  // Same values (no standardization, nothing missing).
  for (let i = 0; i < want.length; i += 997) assert.equal(mi.x.data[i], want[i]);
  // With an explicit null sample dim the whole array is one sample, which this model cannot take.
  writeFileSync(cfg, JSON.stringify({ models: [{ model: 'models/grid.onnx', data: { file: join(BENCH, 'batch64_nhwc.npy') }, input: { sampleDim: null } }] }));
  await assert.rejects(buildModelInput((await readProject(cfg)).models[0], [null, 89, 180, 1]), (err: Error & { code: string }) => err.code === 'SHAPE_MISMATCH');
});
