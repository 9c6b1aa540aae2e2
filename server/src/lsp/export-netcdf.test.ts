/**
 * The language server's side of issue 19's output targets and NetCDF export: explain's map targets
 * checked at the door and reported back (targetSpec), and the "Export NetCDF" job: the same session as
 * explain, written as CF NetCDF on the data's grid (read back by ncdump and by our reader).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../core/backend.js';
import { LensError } from '../core/errors.js';
import { writeNpy } from '../core/data/npy.js';
import { openNetcdf3 } from '../core/data/netcdf3.js';
import { fullSlab } from '../core/data/source.js';
import { REAL, SAMPLES, scratchDir } from '../testing/paths.js';
import { explainJob } from './explain-job.js';
import { exportNetcdfJob, netcdfFileName } from './export-netcdf-job.js';
import type { JobContext } from './jobs.js';
import { explainParams } from './request-params.js';

const ctx: JobContext = { progress() {}, cancelled: () => false, checkCancelled() {} };
const config = { backend: 'cpu' as const };
const dir = scratchDir('lsp-export-netcdf');

before(async () => {
  await useBackend('cpu');
});

test('explainParams: map targets are checked and normalized; malformed ones are BAD_INPUT naming the field', () => {
  const p = (target: unknown) => explainParams({ model: '/m.h5', target }).target;
  assert.deepEqual(p({ type: 'pixel', at: [3, 4] }), { type: 'pixel', at: [3, 4] });
  assert.deepEqual(p({ type: 'region', ranges: [[0, 2], [1, 5]], channel: 1 }), { type: 'region', ranges: [[0, 2], [1, 5]], channel: 1, reduce: 'sum' });
  assert.deepEqual(p({ type: 'all', reduce: 'mean' }), { type: 'all', reduce: 'mean' });
  assert.equal(p(3), 3);
  for (const bad of [{ type: 'pixel', at: [1] }, { type: 'pixel', at: [1, -2] }, { type: 'region', ranges: [[3, 1], [0, 1]] }, { type: 'region', ranges: [[0, 1]] }, { type: 'all' }, { type: 'box' }, 'mean', -1]) {
    assert.throws(() => p(bad), (e: unknown) => e instanceof LensError && e.code === 'BAD_INPUT' && /target/.test(e.message), JSON.stringify(bad));
  }
  assert.equal(netcdfFileName('/x/unet.h5', 'region:1:2,3:4,mean'), 'unet_region-1-2-3-4-mean.nc');
});

const UNET = join(REAL, 'sevir', 'sub-sevir-unet-class-2d.h5');

test('explain with a region target on the SEVIR U-Net: the result names it, its value is the region mean', { skip: !existsSync(UNET) && 'shared real models missing' }, async () => {
  const x = join(dir, 'sevir_x.npy');
  writeFileSync(x, writeNpy(new Float32Array(48 * 48 * 4).map((_, i) => Math.cos(i * 0.11)), [1, 48, 48, 4]));
  const params = explainParams({ model: UNET, samples: { data: x }, composite: 'epsilon', target: { type: 'region', ranges: [[10, 19], [20, 29]], reduce: 'mean' } });
  const r = await explainJob({ file: UNET, params, composite: { name: 'epsilon' }, compositeExplicit: true }, ctx, config);
  assert.equal(r.targetSpec?.text, 'region:10:19,20:29,mean');
  assert.equal(r.target[0], 10 * 48 + 20);
  const out = new Float32Array(Buffer.from(r.outputs!.base64, 'base64').buffer.slice(0));
  let sum = 0;
  for (let i = 10; i <= 19; i++) for (let j = 20; j <= 29; j++) sum += out[i * 48 + j];
  assert.ok(Math.abs(r.targetSpec!.value[0] - sum / 100) <= 1e-5 * Math.max(1, Math.abs(sum / 100)));
  // One-hot seed 1/100 on each of 100 cells: the conservation report starts from 1.
  assert.ok(Math.abs(r.conservation.outputRelevance[0] - 1) < 1e-6);
});

const MLP = join(SAMPLES, 'models', 'mlp_relu', 'model.json');

test('exportNetcdfJob: an MLP on the ocean cells (flattened input) comes back on the lat/lon grid, NaN on land, totals as explain reports', { skip: !existsSync(MLP) && 'sample models not built' }, async () => {
  const payload = { file: MLP, params: { model: MLP, samples: { maxSamples: 2 } }, composite: { name: 'epsilon' }, projectFile: join(SAMPLES, 'lrp-lens.json') };
  const r = await explainJob(payload, ctx, config);
  const nc = await exportNetcdfJob({ ...payload, netcdf: true }, ctx, config);
  assert.match(nc.fileName, /^model_predicted\.nc$/);
  const file = join(dir, nc.fileName);
  writeFileSync(file, Buffer.from(nc.base64, 'base64'));
  const header = execFileSync('ncdump', ['-h', file], { encoding: 'utf8' });
  assert.match(header, /float relevance\(time, lat, lon, channel\) ;/);
  assert.match(header, /time = 2 ;/);
  assert.match(header, /:Conventions = "CF-1.8" ;/);
  assert.match(header, /relevance:comment = "NaN: no model input/);
  const src = await openNetcdf3(file);
  try {
    const v = src.variables.find((x) => x.name === 'relevance')!;
    const data = (await src.read('relevance', fullSlab(v.shape))).data as Float32Array;
    const per = data.length / 2;
    let land = 0;
    for (let s = 0; s < 2; s++) {
      let sum = 0;
      for (let i = 0; i < per; i++) {
        const val = data[s * per + i];
        if (Number.isNaN(val)) land++;
        else sum += val;
      }
      const want = r.conservation.inputRelevance[s];
      assert.ok(Math.abs(sum - want) <= 1e-4 * Math.max(1, Math.abs(want)), `sample ${s}: ${sum} vs ${want}`);
    }
    assert.ok(land > 0, 'land cells are NaN');
  } finally {
    await src.close();
  }
});
