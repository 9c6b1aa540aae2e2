/**
 * The server's explain and checkData jobs (analyzer.ts, run in-process here) on lrp-lens.json data:
 * geographic fields in the result (coordinates with the longitude wrap, mask, dates, labels), the grid
 * of a flattened MLP input, the project mask reaching the relevance-map checks (LRP209), and gradient
 * baselines in place of an LRP composite. Models are TF.js layers models the test builds with tfjs.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf, useBackend } from '../core/backend.js';
import { writeNpy } from '../core/data/npy.js';
import { HAVE_NCGEN, FIXTURES, ncgen } from '../testing/data-files.js';
import { SAMPLES, scratchDir } from '../testing/paths.js';
import { explainJob } from './explain-job.js';
import { checkDataJob } from './check-data-job.js';
import type { JobContext } from './jobs.js';
import { decodeArray } from '../protocol.js';

const skip = HAVE_NCGEN ? false : 'ncgen (Debian netcdf-bin) is not installed';
const dir = scratchDir('lsp-analyzer');
const ctx: JobContext = { progress() {}, cancelled: () => false, checkCancelled() {} };
const config = { backend: 'cpu' as const };
const Y = 4, X = 8, WRAP = 2;
/** Land cells of the fixture grid (missing sst). */
const land = (y: number, x: number): boolean => (y === 0 && x < 3) || (y === 3 && x === 7);

async function saveLayers(model: import('@tensorflow/tfjs').LayersModel, sub: string): Promise<string> {
  const out = join(dir, sub);
  mkdirSync(out, { recursive: true });
  await model.save(tf.io.withSaveHandler(async (a) => {
    const spec = a.weightSpecs!;
    writeFileSync(join(out, 'weights.bin'), Buffer.from(a.weightData as ArrayBuffer));
    writeFileSync(join(out, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: spec }] }));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return join(out, 'model.json');
}

let cnnFile: string, mlpFile: string, mlp: import('@tensorflow/tfjs').LayersModel;

before(async () => {
  if (skip) return;
  await useBackend('cpu');
  mkdirSync(dir, { recursive: true });
  ncgen('nc4', join(FIXTURES, 'grid.cdl'), 'grid.nc', dir);
  const cnn = tf.sequential({ layers: [
    tf.layers.conv2d({ inputShape: [Y, X + 2 * WRAP, 1], filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
  ] });
  mlp = tf.sequential({ layers: [
    tf.layers.dense({ inputShape: [Y * (X + 2 * WRAP)], units: 6, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }), biasInitializer: 'zeros' }),
    tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
  ] });
  cnnFile = await saveLayers(cnn, 'cnn');
  mlpFile = await saveLayers(mlp, 'mlp');
  const common = {
    data: { file: 'grid.nc', variable: 'sst' },
    labels: { variable: 'nino', thresholds: [-0.5, 0.5] },
    classNames: ['La Nina', 'Neutral', 'El Nino'],
    mask: 'missing',
  };
  writeFileSync(join(dir, 'lrp-lens.json'), JSON.stringify({ version: 1, models: [
    // Fill value far outside the anomalies: the masked cells then draw relevance (what LRP209 is for).
    { name: 'cnn', model: 'cnn/model.json', ...common, input: { sampleDim: 'time', layout: ['lat', 'lon', 'channel'], standardize: { anomaly: 'mean', std: 2 }, fillValue: -9, wrapLon: WRAP } },
    { name: 'mlp', model: 'mlp/model.json', ...common, input: { sampleDim: 'time', flatten: true, standardize: { anomaly: 'mean', std: 2 }, fillValue: 0, wrapLon: WRAP } },
  ] }));
});

const project = () => join(dir, 'lrp-lens.json');
const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));

test('explain on lrp-lens.json data returns lat/lon (wrapped), the mask, dates, labels and class names', { skip }, async () => {
  const r = await explainJob({ file: cnnFile, params: { model: cnnFile }, composite: { name: 'epsilon' }, projectFile: project() }, ctx, config);
  assert.deepEqual(r.relevance.shape, [6, Y, X + 2 * WRAP, 1]);
  assert.equal(r.layout, 'NHWC');
  assert.equal(r.wrapLon, WRAP);
  // The fixture's longitudes are 0, 45, ..., 315; the wrap continues them past both ends.
  assert.deepEqual(r.coords!.lon, [-90, -45, 0, 45, 90, 135, 180, 225, 270, 315, 360, 405]);
  assert.equal(r.coords!.lat.length, Y);
  const mask = bytes(r.mask!);
  assert.equal(mask.length, Y * (X + 2 * WRAP));
  for (let y = 0; y < Y; y++) for (let j = 0; j < X + 2 * WRAP; j++) {
    assert.equal(mask[y * (X + 2 * WRAP) + j], land(y, (j - WRAP + X) % X) ? 1 : 0, `cell ${y},${j}`);
  }
  assert.equal(r.times!.length, 6);
  assert.match(r.times![0], /^2000-01/);
  // nino = -1.2, -0.3, 0.2, 0.7, 1.5, -0.6 thresholded at -0.5 and 0.5.
  assert.deepEqual(r.labels, [0, 1, 1, 2, 2, 0]);
  assert.deepEqual(r.classNames, ['La Nina', 'Neutral', 'El Nino']);
  // A chosen subset keeps its own dates and labels.
  const sub = await explainJob({ file: cnnFile, params: { model: cnnFile, samples: { indices: [4, 1] } }, composite: { name: 'epsilon' }, projectFile: project() }, ctx, config);
  assert.deepEqual(sub.samples, [4, 1]);
  assert.deepEqual(sub.labels, [2, 1]);
  assert.deepEqual(sub.times, [r.times![4], r.times![1]]);
});

test('a flattened MLP input on a lat/lon grid comes with the grid shape to draw it as a map', { skip }, async () => {
  const r = await explainJob({ file: mlpFile, params: { model: mlpFile, samples: { maxSamples: 2 } }, composite: { name: 'epsilon' }, projectFile: project() }, ctx, config);
  assert.deepEqual(r.relevance.shape, [2, Y * (X + 2 * WRAP)]);
  assert.deepEqual(r.grid, { shape: [Y, X + 2 * WRAP, 1], layout: 'NHWC' });
  assert.equal(r.coords!.lon.length, X + 2 * WRAP);
  assert.equal(bytes(r.mask!).length, Y * (X + 2 * WRAP));
});

test('the sample MLP on the ocean cells (flatten "valid"): maps come back on the 89 x 180 grid, land without relevance', { skip: !existsSync(join(SAMPLES, 'models', 'mlp_relu', 'model.json')) && 'sample models not built' }, async () => {
  const file = join(SAMPLES, 'models', 'mlp_relu', 'model.json');
  const r = await explainJob({ file, params: { model: file, samples: { maxSamples: 2 } }, composite: { name: 'epsilon' }, projectFile: join(SAMPLES, 'lrp-lens.json') }, ctx, config);
  assert.deepEqual(r.grid, { shape: [89, 180, 1], layout: 'NHWC' });
  assert.deepEqual(r.relevance.shape, [2, 89 * 180]);
  assert.deepEqual(r.input!.shape, [2, 89 * 180]);
  const masked = bytes(r.mask!);
  assert.equal(masked.length, 89 * 180);
  assert.equal(masked.reduce((a, v) => a + v, 0), 89 * 180 - 10988);
  const rel = decodeArray(r.relevance) as Float32Array;
  for (let s = 0; s < 2; s++) {
    let sum = 0;
    for (let i = 0; i < 89 * 180; i++) {
      const v = rel[s * 89 * 180 + i];
      if (masked[i]) assert.equal(v, 0);
      sum += v;
    }
    // Scattering loses no relevance: the map sums to what the engine put on the features.
    assert.ok(Math.abs(sum - r.conservation.inputRelevance[s]) <= 1e-4 * Math.max(1, Math.abs(sum)), `${sum} vs ${r.conservation.inputRelevance[s]}`);
  }
});

test('gradient baselines run in place of a composite and match tfjs gradients of the model', { skip }, async () => {
  const x = new Float32Array(3 * Y * (X + 2 * WRAP)).map((_, i) => Math.sin(i * 0.37));
  const npy = join(dir, 'x_flat.npy');
  writeFileSync(npy, writeNpy(x, [3, Y * (X + 2 * WRAP)]));
  for (const name of ['gradient', 'gradient-x-input']) {
    const r = await explainJob({ file: mlpFile, params: { model: mlpFile, samples: { data: npy }, target: 1 }, composite: { name }, compositeExplicit: true }, ctx, config);
    assert.equal(r.composite.name, name);
    assert.deepEqual(r.target, [1, 1, 1]);
    const got = decodeArray(r.relevance);
    const want = tf.tidy(() => {
      const xt = tf.tensor2d(x, [3, Y * (X + 2 * WRAP)]);
      const g = tf.grad((t: import('@tensorflow/tfjs').Tensor) => tf.sum(tf.slice(mlp.predict(t) as import('@tensorflow/tfjs').Tensor2D, [0, 1], [3, 1])))(xt);
      return (name === 'gradient' ? g : tf.mul(g, xt)).dataSync() as Float32Array;
    });
    assert.equal(got.length, want.length);
    let maxErr = 0;
    let scale = 0;
    for (let i = 0; i < got.length; i++) { maxErr = Math.max(maxErr, Math.abs(got[i] - want[i])); scale = Math.max(scale, Math.abs(want[i])); }
    assert.ok(scale > 0 && maxErr <= 1e-5 * scale, `${name}: max error ${maxErr} (scale ${scale})`);
  }
  const ig = await explainJob({ file: mlpFile, params: { model: mlpFile, samples: { data: npy }, target: 1 }, composite: { name: 'integrated-gradients', params: { steps: 64 } }, compositeExplicit: true }, ctx, config);
  // Integrated gradients from a zero baseline add up to f(x) - f(0) (completeness); here f(0) = bias of class 1 through relu(0).
  const f0 = tf.tidy(() => (mlp.predict(tf.zeros([1, Y * (X + 2 * WRAP)])) as import('@tensorflow/tfjs').Tensor).dataSync()[1]);
  const outs = decodeArray(ig.outputs!);
  ig.conservation.inputRelevance.forEach((s, i) => assert.ok(Math.abs(s - (outs[i * 3 + 1] - f0)) < 0.02 * Math.max(1, Math.abs(outs[i * 3 + 1])), `IG sum ${s} vs ${outs[i * 3 + 1] - f0}`));
});

test('checkData passes the lrp-lens.json mask to the relevance-map checks (LRP209)', { skip }, async () => {
  const { findings } = await checkDataJob({ file: cnnFile, params: { model: cnnFile }, composite: { name: 'epsilon' }, projectFile: project(), settings: { disabledChecks: [] } }, ctx, config);
  const f = findings.find((x) => x.code === 'LRP209');
  assert.ok(f, `LRP209 expected, got ${findings.map((x) => x.code).join(', ')}`);
  // The checks judge the data's grid (the wrapped copies folded back, as the report does): the share of
  // masked cells is that of the land cells on the Y x X grid.
  let landCells = 0;
  for (let y = 0; y < Y; y++) for (let j = 0; j < X; j++) if (land(y, j)) landCells++;
  assert.ok(Math.abs(Number(f.data!.maskedCells) - landCells / (Y * X)) < 1e-9, `masked share ${f.data!.maskedCells}`);
});
