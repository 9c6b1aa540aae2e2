/**
 * `lrp-lens explain --out R.nc`: the relevance as CF NetCDF on the data's grid (ncdump, an independent
 * reader, checks the coordinates against the source file's; our reader the values), and --target
 * pixel/region on a real U-Net from the command line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli as cli } from '../testing/cli.js';
import { REAL, REF, SAMPLES, scratchDir } from '../testing/paths.js';
import { writeNpy } from '../core/data/npy.js';
import { toFloat32 } from '../core/array.js';
import { openNetcdf3 } from '../core/data/netcdf3.js';
import { fullSlab } from '../core/data/source.js';
import { readNpyFile } from '../testing/arrays.js';

const dir = scratchDir('cli-explain-netcdf');

function ncdumpVar(file: string, name: string): number[] {
  const text = execFileSync('ncdump', ['-p', '9,17', '-v', name, file], { encoding: 'utf8' });
  const m = new RegExp(`\\n\\s*${name} =([^;]*);`).exec(text.slice(text.indexOf('data:')))!;
  return m[1].split(',').map((v) => Number(v.trim()));
}

async function readVar(file: string, name: string): Promise<{ shape: number[]; data: Float32Array; attrs: Record<string, unknown> }> {
  const src = await openNetcdf3(file);
  try {
    const v = src.variables.find((x) => x.name === name)!;
    return { shape: v.shape, data: (await src.read(name, fullSlab(v.shape))).data as Float32Array, attrs: v.attrs };
  } finally {
    await src.close();
  }
}

const WRAPPED = join(SAMPLES, 'models', 'cnn_valid_wrap_avgpool', 'model.h5');
const ERSST = join(SAMPLES, 'data', 'ersstv5_anom_5deg_1980-2018.nc');

test('explain --config ... --out R.nc: time, lat, lon from the data file; the wrapped longitude folded back, each sample\'s relevance total kept', { skip: !existsSync(WRAPPED) && 'sample models not built' }, async () => {
  const out = join(dir, 'wrapped.nc');
  const { code, out: text } = await cli(['explain', '--config', join(SAMPLES, 'lrp-lens.json'), '--model', 'cnn_valid_wrap_avgpool', '--target', '1', '--out', out, '--json']);
  assert.equal(code, 0, text);
  const j = JSON.parse(text);
  const header = execFileSync('ncdump', ['-h', out], { encoding: 'utf8' });
  assert.match(execFileSync('ncdump', ['-k', out], { encoding: 'utf8' }), /64-bit offset/);
  for (const line of ['float relevance(time, lat, lon, channel) ;', 'time:calendar = "360_day" ;', 'lon:units = "degrees_east" ;', ':Conventions = "CF-1.8" ;', 'relevance:lrp_target = "1" ;', 'relevance:lrp_engine = "' + j.engine.name + '" ;']) {
    assert.ok(header.includes(line), `${line}\n${header}`);
  }
  // Coordinates as the source file has them (read by ncdump from both files).
  for (const c of ['time', 'lat', 'lon']) assert.deepEqual(ncdumpVar(out, c), ncdumpVar(ERSST, c), c);
  const rel = await readVar(out, 'relevance');
  const [n, h, w] = rel.shape;
  assert.deepEqual([n, h, w], [j.samples.length, ncdumpVar(ERSST, 'lat').length, ncdumpVar(ERSST, 'lon').length]);
  const per = rel.data.length / n;
  j.samples.forEach((s: { relevanceSum: number }, i: number) => {
    let sum = 0;
    for (let p = 0; p < per; p++) if (!Number.isNaN(rel.data[i * per + p])) sum += rel.data[i * per + p];
    assert.ok(Math.abs(sum - s.relevanceSum) <= 1e-4 * Math.max(1, Math.abs(s.relevanceSum)), `sample ${i}: ${sum} vs ${s.relevanceSum}`);
  });
  // The input variable: the model input's original columns.
  const inp = await readVar(out, 'input');
  assert.deepEqual(inp.shape, rel.shape);
});

test('explain --input X.npy --out R.nc: no coordinates, a sample axis; the values are the .npy relevance bit for bit', async () => {
  const base = ['explain', join(REF, 'cnn_same', 'model.h5'), '--input', join(REF, 'cnn_same', 'x_nhwc.npy'), '--composite', 'epsilon'];
  assert.equal((await cli([...base, '--out', join(dir, 'r.npy')])).code, 0);
  assert.equal((await cli([...base, '--out', join(dir, 'r.nc')])).code, 0);
  const a = readNpyFile(join(dir, 'r.npy'));
  const b = await readVar(join(dir, 'r.nc'), 'relevance');
  assert.deepEqual(b.shape, a.shape);
  assert.deepEqual(b.data, toFloat32(a));
  assert.match(execFileSync('ncdump', ['-h', join(dir, 'r.nc')], { encoding: 'utf8' }), /float relevance\(sample, dim1, dim2, dim3\)/);
  const bad = await cli([...base, '--out', join(dir, 'r2.nc'), '--layout', 'model', '--json']);
  assert.equal(bad.code, 2);
});

const UNET = join(REAL, 'sevir', 'sub-sevir-unet-class-2d.h5');

test('explain --target pixel:R,C and region:... on the SEVIR U-Net: the named output cell, the region mean; out of the map refused', { skip: !existsSync(UNET) && 'shared real models missing' }, async () => {
  const x = join(dir, 'sevir_x.npy');
  writeFileSync(x, writeNpy(new Float32Array(2 * 48 * 48 * 4).map((_, i) => Math.sin(i * 0.37)), [2, 48, 48, 4]));
  const base = ['explain', UNET, '--input', x, '--composite', 'epsilon', '--out', join(dir, 'unet.npy'), '--json'];
  const px = await cli([...base, '--target', 'pixel:40,10']);
  assert.equal(px.code, 0, px.out);
  const jp = JSON.parse(px.out);
  for (const s of jp.samples) {
    assert.equal(s.target, 40 * 48 + 10);
    assert.equal(s.targetSpec, 'pixel:40,10');
    assert.equal(s.targetValue, s.output[40 * 48 + 10]);
  }
  const rg = await cli([...base, '--target', 'region:10:19,20:29,mean']);
  assert.equal(rg.code, 0, rg.out);
  for (const s of JSON.parse(rg.out).samples) {
    let sum = 0;
    for (let r = 10; r <= 19; r++) for (let c = 20; c <= 29; c++) sum += s.output[r * 48 + c];
    assert.ok(Math.abs(s.targetValue - sum / 100) <= 1e-5 * Math.max(1, Math.abs(sum / 100)), `${s.targetValue} vs ${sum / 100}`);
  }
  const off = await cli([...base, '--target', 'pixel:48,0']);
  assert.equal(off.code, 2);
  const err = JSON.parse(off.out).error;
  assert.equal(err.code, 'SELECTION_OUT_OF_RANGE');
  assert.match(err.message, /\[48, 48, 1\]/);
  const usage = await cli([...base, '--target', 'pixel:4']);
  assert.equal(JSON.parse(usage.out).error.code, 'USAGE');
});

test('lrp-lens.json explain.target takes the map targets too (region mean), and refuses a malformed one at its key', { skip: !existsSync(UNET) && 'shared real models missing' }, async () => {
  const x = join(dir, 'sevir_x1.npy');
  writeFileSync(x, writeNpy(new Float32Array(48 * 48 * 4).map((_, i) => Math.sin(i * 0.21)), [1, 48, 48, 4]));
  const project = (target: string) => {
    const f = join(dir, 'lrp-lens.json');
    writeFileSync(f, JSON.stringify({ version: 1, models: [{ name: 'unet', model: UNET, data: { file: x }, explain: { composite: 'epsilon', target } }] }));
    return f;
  };
  const out = join(dir, 'unet_region.nc');
  const r = await cli(['explain', '--config', project('region:0:47,0:47,mean'), '--model', 'unet', '--out', out, '--json']);
  assert.equal(r.code, 0, r.out);
  const j = JSON.parse(r.out);
  assert.equal(j.samples[0].targetSpec, 'region:0:47,0:47,mean');
  const mean = j.samples[0].output.reduce((a: number, b: number) => a + b, 0) / (48 * 48);
  assert.ok(Math.abs(j.samples[0].targetValue - mean) <= 1e-5 * Math.max(1, Math.abs(mean)));
  const header = execFileSync('ncdump', ['-h', out], { encoding: 'utf8' });
  assert.match(header, /relevance:lrp_target = "region:0:47,0:47,mean" ;/);
  assert.match(header, /relevance:long_name = "LRP relevance of region:0:47,0:47,mean for sub-sevir-unet-class-2d.h5" ;/);
  const bad = await cli(['explain', '--config', project('pixel:x'), '--model', 'unet', '--out', out, '--json']);
  assert.equal(bad.code, 2);
  assert.match(JSON.parse(bad.out).error.message, /explain.*target/);
});
