/** `lrp-lens inspect` and `lrp-lens predict`: JSON output, files written, and exit 2 with {"error"} on bad input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli as cli } from '../testing/cli.js';
import { REF, REPO, SAMPLES, scratchDir } from '../testing/paths.js';
import { writeNpy } from '../core/data/npy.js';
import { toFloat32 } from '../core/array.js';
import { HAVE_NCGEN, NCGEN } from '../testing/data-files.js';
import { readKerasH5Raw, writeKerasWeightsH5 } from '../core/model/writers/keras-h5-writer.js';
import { readNpyFile } from '../testing/arrays.js';

const dir = scratchDir('cli-inspect-predict');

test('inspect --json: format, version, input/output shapes and layouts, layer table', async () => {
  const { code, out } = await cli(['inspect', join(REF, 'cnn_same', 'model.onnx'), '--json']);
  assert.equal(code, 0);
  const s = JSON.parse(out);
  assert.equal(s.format.name, 'onnx');
  assert.match(String(s.format.version), /\d+/);
  assert.deepEqual(s.inputs[0].shape.slice(1), [1, 16, 32]);
  assert.equal(s.inputs[0].layout, 'NCHW');
  assert.deepEqual(s.outputs[0].shape.slice(1), [2]);
  const conv = s.layers.find((l: { kind: string }) => l.kind === 'Conv');
  assert.ok(conv && conv.params > 0 && Array.isArray(conv.inbound) && conv.outputShape.length === 4);
  const k = await cli(['inspect', join(REF, 'cnn_same', 'model.h5'), '--json']);
  const sk = JSON.parse(k.out);
  assert.equal(sk.format.name, 'keras-h5');
  assert.equal(sk.inputs[0].layout, 'NHWC');
  assert.ok(sk.layers.some((l: { activation: string }) => l.activation === 'softmax'));
  const text = await cli(['inspect', join(REF, 'mlp', 'tfjs', 'model.json')]);
  assert.equal(text.code, 0);
  assert.match(text.out, /Total params: [\d,]+/);
});

test('predict --json writes the outputs in the file layout; they match logits.npy', async () => {
  const out = join(dir, 'y.npy');
  const { code, out: stdout } = await cli(['predict', join(REF, 'cnn_same', 'model.onnx'), '--input', join(REF, 'cnn_same', 'x_nchw.npy'), '--out', out, '--json']);
  assert.equal(code, 0, stdout);
  const info = JSON.parse(stdout);
  assert.deepEqual(info.outputs[0].shape, [8, 2]);
  const y = toFloat32(readNpyFile(out));
  const want = toFloat32(readNpyFile(join(REF, 'cnn_same', 'logits.npy')));
  const scale = Math.max(...Array.from(want, Math.abs));
  assert.ok(Array.from(y).every((v, i) => Math.abs(v - want[i]) <= 1e-4 * scale));
});

test('errors: exit 2 and one {"error": {...}} object with code, message and file', async () => {
  const broken = join(dir, 'broken.h5');
  const bytes = readFileSync(join(REF, 'cnn_same', 'model.h5'));
  writeFileSync(broken, bytes.subarray(0, Math.floor(bytes.length / 3)));
  for (const cmd of [['inspect', broken, '--json'], ['predict', broken, '--input', join(REF, 'cnn_same', 'x_nhwc.npy'), '--out', join(dir, 'z.npy'), '--json']]) {
    const { code, out } = await cli(cmd);
    assert.equal(code, 2);
    const e = JSON.parse(out).error;
    assert.equal(typeof e.code, 'string');
    assert.notEqual(e.code, 'INTERNAL');
    assert.ok(e.message.length > 0);
    assert.equal(e.file, broken);
  }
  const missing = await cli(['inspect', join(dir, 'nope.h5'), '--json']);
  assert.equal(missing.code, 2);
  assert.equal(JSON.parse(missing.out).error.code, 'FILE_NOT_FOUND');
  const model = join(dir, 'model.h5');
  copyFileSync(join(REF, 'cnn_same', 'model.h5'), model);
  const wrong = await cli(['predict', model, '--input', join(REF, 'cnn_same', 'x_nchw.npy'), '--out', join(dir, 'z.npy'), '--json']);
  assert.equal(wrong.code, 2);
  assert.equal(JSON.parse(wrong.out).error.code, 'BAD_INPUT');
  const usage = await cli(['predict', model, '--json']);
  assert.equal(usage.code, 2);
  assert.equal(JSON.parse(usage.out).error.code, 'USAGE');
});

test('the CLI as a process: exit code 2 and the error object on stdout', () => {
  const here = fileURLToPath(import.meta.url);
  const compiled = here.endsWith('.js');
  const cliPath = join(here, '..', '..', compiled ? 'cli.js' : 'cli.ts');
  const broken = join(dir, 'garbage.onnx');
  writeFileSync(broken, Buffer.from('this is not a model at all, just text that goes on '.repeat(20)));
  const r = spawnSync(process.execPath, [...(compiled ? [] : ['--import', 'tsx']), cliPath, 'inspect', broken, '--json'], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2, r.stderr);
  const e = JSON.parse(r.stdout).error;
  assert.ok(['FORMAT_UNKNOWN', 'CORRUPT', 'TRUNCATED'].includes(e.code), e.code);
  assert.equal(e.file, broken);
});

test('a Keras to_json file with --weights FILE: inspect and predict like the full .h5', async () => {
  const raw = await readKerasH5Raw(join(REF, 'mlp', 'model.h5'));
  const arch = join(dir, 'arch.json');
  writeFileSync(arch, JSON.stringify({ ...raw.config, keras_version: '2.11.0', backend: 'tensorflow' }));
  const weights = join(dir, 'trained-elsewhere.h5');
  await writeKerasWeightsH5(weights, raw.weights, { style: 'keras2', layout: 'legacy', layerNames: raw.layerNames });
  const without = await cli(['inspect', arch, '--json']);
  assert.equal(without.code, 2, 'no weights next to it by name');
  assert.equal(JSON.parse(without.out).error.code, 'MISSING_WEIGHTS');
  const i = await cli(['inspect', arch, '--weights', weights, '--json']);
  assert.equal(i.code, 0, i.out);
  assert.equal(JSON.parse(i.out).format.name, 'keras-json');
  const out = join(dir, 'y-json.npy');
  const p = await cli(['predict', arch, '--weights', weights, '--input', join(REF, 'mlp', 'x_nhwc.npy'), '--out', out, '--json']);
  assert.equal(p.code, 0, p.out);
  const y = toFloat32(readNpyFile(out));
  const want = toFloat32(readNpyFile(join(REF, 'mlp', 'logits.npy')));
  const scale = Math.max(...Array.from(want, Math.abs));
  assert.ok(Array.from(y).every((v, k) => Math.abs(v - want[k]) <= 1e-4 * scale));
});

test('predict --data FILE.nc --var NAME on a NetCDF made by ncgen: missing cells become --fill, same outputs as the .npy', { skip: !HAVE_NCGEN && 'ncgen (netcdf-bin) not installed' }, async () => {
  // Two samples of the reference input as a CF variable sst(time, lat, lon), one cell missing.
  const x = readNpyFile(join(REF, 'mlp', 'x_nhwc.npy'));
  const xs = toFloat32(x);
  const [, h, w] = x.shape;
  const vals = Array.from(xs.subarray(0, 2 * h * w), (v) => v.toPrecision(9));
  const hole = h * w + 5 * w + 7; // sample 1, row 5, column 7
  vals[hole] = '_';
  const cdl = [
    'netcdf two {',
    `dimensions: time = UNLIMITED ; lat = ${h} ; lon = ${w} ;`,
    'variables:',
    '  double time(time) ; time:units = "days since 2000-01-01" ; time:calendar = "standard" ;',
    '  float lat(lat) ; lat:units = "degrees_north" ;',
    '  float lon(lon) ; lon:units = "degrees_east" ;',
    '  float sst(time, lat, lon) ; sst:_FillValue = -999.f ;',
    'data:',
    '  time = 0, 31 ;',
    `  lat = ${Array.from({ length: h }, (_, i) => -30 + 4 * i).join(', ')} ;`,
    `  lon = ${Array.from({ length: w }, (_, i) => 4 * i).join(', ')} ;`,
    `  sst = ${vals.join(', ')} ;`,
    '}',
  ].join('\n');
  const cdlPath = join(dir, 'two.cdl');
  writeFileSync(cdlPath, cdl);
  const nc = join(dir, 'two.nc');
  execFileSync(NCGEN, ['-k', 'nc4', '-o', nc, cdlPath]);
  const out = join(dir, 'y-nc.npy');
  const r = await cli(['predict', join(REF, 'mlp', 'model.h5'), '--data', nc, '--var', 'sst', '--fill', '0.5', '--out', out, '--json']);
  assert.equal(r.code, 0, r.out);
  const info = JSON.parse(r.out);
  assert.deepEqual(info.inputs[0].shape, [2, h, w, 1]);
  assert.equal(info.inputs[0].from, 'data');
  assert.deepEqual(info.inputs[0].dates.map((d: string) => d.slice(0, 10)), ['2000-01-01', '2000-02-01']);
  // The same two samples as X.npy with the hole set to the fill value.
  const ref = xs.slice(0, 2 * h * w);
  ref[hole] = 0.5;
  const xPath = join(dir, 'two.npy');
  writeFileSync(xPath, writeNpy(ref, [2, h, w, 1]));
  const out2 = join(dir, 'y-npy.npy');
  assert.equal((await cli(['predict', join(REF, 'mlp', 'model.h5'), '--input', xPath, '--out', out2])).code, 0);
  const a = toFloat32(readNpyFile(out));
  const b = toFloat32(readNpyFile(out2));
  assert.deepEqual(a, b);
  // Sample 0 has no hole: it is the reference logits.
  const want = toFloat32(readNpyFile(join(REF, 'mlp', 'logits.npy')));
  const k = want.length / x.shape[0];
  for (let c = 0; c < k; c++) assert.ok(Math.abs(a[c] - want[c]) <= 1e-4 * (1 + Math.abs(want[c])));
  // An unknown variable is a coded error (exit 2).
  const bad = await cli(['predict', join(REF, 'mlp', 'model.h5'), '--data', nc, '--var', 'sstt', '--out', out, '--json']);
  assert.equal(bad.code, 2);
  assert.equal(JSON.parse(bad.out).error.code, 'UNKNOWN_VARIABLE');
});

test('predict --config: MODEL from the entry, dates and labels with the outputs', { skip: !existsSync(join(SAMPLES, 'models', 'cnn_valid_wrap_avgpool', 'model.h5')) && 'sample models not built' }, async () => {
  const out = join(dir, 'y-config.npy');
  const r = await cli(['predict', '--config', join(SAMPLES, 'lrp-lens.json'), '--model', 'cnn_valid_wrap_avgpool', '--out', out, '--json']);
  assert.equal(r.code, 0, r.out);
  const info = JSON.parse(r.out);
  assert.match(info.model, /cnn_valid_wrap_avgpool/);
  const inp = info.inputs[0];
  // The entry wraps 4 longitudes on each side: 72 + 8 columns, as the model declares.
  assert.deepEqual(inp.shape.slice(1), [24, 80, 1]);
  assert.equal(inp.dates.length, inp.shape[0]);
  assert.equal(inp.labels.length, inp.shape[0]);
  assert.deepEqual(toFloat32(readNpyFile(out)).length, inp.shape[0] * 3);
});
