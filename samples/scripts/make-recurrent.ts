/**
 * The recurrent samples of `npm run samples`: the 5-degree ERSSTv5 anomaly field fed column by column
 * (longitude as time, 72 steps; the 24 latitudes of a column as the features), the same ENSO labels and
 * the same split by years as the CNNs (train 1980-2010, test 2011-2018):
 *   - esn_columns: an echo state network (esn.ts): seeded sparse reservoir, read-out of the last state by
 *     ridge regression in closed form; leak rate and ridge penalty chosen on validation years inside the
 *     training years; saved as ONNX (esn-onnx.ts, the unrolled per-step graph a PyTorch export gives);
 *   - lstm_columns: a small LSTM trained with tfjs-layers (units, step size and epochs chosen on the same
 *     validation years), saved as TF.js layers and Keras 2 HDF5.
 * Run alone: `npx tsx samples/scripts/make-recurrent.ts samples [esn_columns|lstm_columns ...]`; the
 * models' entries in samples/models/metrics.json are replaced, the others kept.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { useBackend } from '../../server/src/core/backend.js';
import { buildModelInput } from '../../server/src/core/data/pipeline.js';
import { findEntry, readProject } from '../../server/src/core/data/project.js';
import { writeKerasH5 } from '../../server/src/core/model/writers/keras-h5-writer.js';
import { argmaxAccuracy, fitReadout, lastStates, makeReservoir, readout, roundToFloat32, type ReservoirSpec } from './esn.js';
import { writeEsnOnnx } from './esn-onnx.js';
import { kerasWeights } from './keras-weights.js';
import { accuracy, saveTfjs, seededPermutation, subset, type Dataset } from './train.js';
import type { SampleMetrics } from './make-samples.js';

/** First test year: the CNNs' split on the 5-degree grid. */
const TEST_FROM = 2011;
/** Validation years (the ESN's leak rate and ridge penalty, the LSTM's size, step and epochs): the last four training years, fitted on the years before. */
const VALIDATION_FROM = 2007;
const K = 3;

export const RESERVOIR: Omit<ReservoirSpec, 'features'> = { units: 120, density: 0.1, spectralRadius: 0.95, inputScale: 0.5, biasScale: 0.2, seed: 2022 };
export const LEAK_GRID = [0.02, 0.05, 0.1, 0.2, 0.5, 1];
export const RIDGE_GRID = [0.01, 0.1, 1, 10];

export interface LstmConfig {
  units: number;
  learningRate: number;
  /** Epochs of the validation run; the final run stops at the best of them. */
  maxEpochs: number;
}
/** The LSTM settings to choose from on the validation years (with the number of epochs). */
export const LSTM_CONFIGS: LstmConfig[] = [
  { units: 16, learningRate: 2e-3, maxEpochs: 30 },
  { units: 32, learningRate: 1e-3, maxEpochs: 30 },
];
const BATCH = 32;

/** The CNN samples' metrics (make-samples.ts), plus how the field was fed and the recurrent model's choices. */
export interface RecurrentMetrics extends Omit<SampleMetrics, 'l2Selection'> {
  /** How the field becomes a sequence (as lrp-lens.json says): time = this dim, features = the rest. */
  sequence: { time: string; features: string[]; reverse: boolean };
  lstm?: {
    units: number;
    /** Epochs of the final run, chosen on the validation years. */
    epochs: number;
    batchSize: number;
    learningRate: number;
    selection: { validationYears: string; validationMonths: number; fitYears: string; tried: { units: number; learningRate: number; accuracyByEpoch: number[] }[] };
  };
  esn?: {
    units: number;
    density: number;
    spectralRadius: number;
    inputScale: number;
    biasScale: number;
    seed: number;
    readout: string;
    leak: number;
    ridge: number;
    selection: { validationYears: string; validationMonths: number; fitYears: string; scores: { leak: number; ridge: number; accuracy: number }[] };
  };
}

async function dataset(samplesDir: string, name: string): Promise<Dataset> {
  const project = await readProject(join(samplesDir, 'lrp-lens.json'));
  const input = await buildModelInput(findEntry(project, name));
  if (!input.labels || !input.times) throw new Error(`${name}: the project entry gives no labels or dates`);
  if (input.x.shape.length !== 3) throw new Error(`${name}: expected a [sample, time, feature] input, got [${input.x.shape.join(', ')}]`);
  const years = Int32Array.from(input.times.map((t) => Number(t.slice(0, 4))));
  return { x: input.x.data, shape: input.x.shape, y: input.labels, years };
}

function split(d: Dataset, at: number): { before: Dataset; after: Dataset } {
  const a: number[] = [];
  const b: number[] = [];
  d.years.forEach((y, i) => (y < at ? a : b).push(i));
  return { before: subset(d, a), after: subset(d, b) };
}

const counts = (y: Int32Array): number[] => {
  const c = new Array<number>(K).fill(0);
  for (const v of y) c[v]++;
  return c;
};
const yearsOf = (d: Dataset) => `${Math.min(...d.years)}-${Math.max(...d.years)}`;

function common(name: string, purpose: string, d: Dataset, tr: Dataset, te: Dataset) {
  const trainCounts = counts(tr.y);
  const testCounts = counts(te.y);
  const majority = trainCounts.indexOf(Math.max(...trainCounts));
  return {
    name,
    purpose,
    inputShape: d.shape.slice(1),
    sequence: { time: 'lon', features: ['lat'], reverse: false },
    trainMonths: tr.y.length,
    testMonths: te.y.length,
    trainYears: yearsOf(tr),
    testYears: yearsOf(te),
    majorityBaseline: Number((testCounts[majority] / te.y.length).toFixed(4)),
    classCounts: counts(d.y),
    testClassCounts: testCounts,
  };
}

export async function makeEsn(samplesDir: string): Promise<RecurrentMetrics> {
  const name = 'esn_columns';
  const d = await dataset(samplesDir, name);
  const [, T, F] = d.shape;
  const { before: tr, after: te } = split(d, TEST_FROM);
  const { before: fit, after: val } = split(tr, VALIDATION_FROM);
  const res = makeReservoir({ ...RESERVOIR, features: F });
  const scores: { leak: number; ridge: number; accuracy: number }[] = [];
  for (const leak of LEAK_GRID) {
    const sFit = lastStates(res, leak, fit.x, fit.y.length, T);
    const sVal = lastStates(res, leak, val.x, val.y.length, T);
    for (const ridge of RIDGE_GRID) {
      const r = fitReadout(sFit, fit.y.length, res.N, fit.y, K, ridge);
      scores.push({ leak, ridge, accuracy: Number(argmaxAccuracy(readout(sVal, val.y.length, res.N, r.W_out, r.b_out), val.y, K).toFixed(4)) });
    }
  }
  // Best validation accuracy; ties go to the larger leak (shorter memory) and then the larger penalty.
  const best = scores.reduce((a, b) => (b.accuracy > a.accuracy || (b.accuracy === a.accuracy && (b.leak > a.leak || (b.leak === a.leak && b.ridge > a.ridge))) ? b : a));
  const sTr = lastStates(res, best.leak, tr.x, tr.y.length, T);
  const ro = fitReadout(sTr, tr.y.length, res.N, tr.y, K, best.ridge);
  // Accuracy of the weights as saved (float32).
  const w = roundToFloat32({ W_in: res.W_in, b_in: res.b_in, W_res: res.W_res, b_res: res.b_res, leak: best.leak, W_out: ro.W_out, b_out: ro.b_out, T, F });
  const acc = (s: Dataset) => argmaxAccuracy(readout(lastStates({ ...w, N: res.N, F }, w.leak, s.x, s.y.length, T), s.y.length, res.N, w.W_out, w.b_out), s.y, K);
  const dir = join(samplesDir, 'models', name);
  mkdirSync(dir, { recursive: true });
  writeEsnOnnx(w, join(dir, 'model.onnx'));
  return {
    ...common(name, `echo state network fed column by column (longitude as time, ${T} steps of ${F} latitudes): a fixed seeded reservoir of ${res.N} leaky tanh units (leak rate chosen on validation years), ridge read-out of the last state`, d, tr, te),
    trainAccuracy: Number(acc(tr).toFixed(4)),
    testAccuracy: Number(acc(te).toFixed(4)),
    esn: {
      ...RESERVOIR,
      readout: 'linear map of the last reservoir state x_T, ridge regression on one-hot class targets (bias not penalized), closed form',
      leak: best.leak,
      ridge: best.ridge,
      selection: { validationYears: yearsOf(val), validationMonths: val.y.length, fitYears: yearsOf(fit), scores },
    },
  };
}

/**
 * Adam on shuffled (seeded) batches; `val`: the accuracy on it after each epoch (1-based epochs).
 */
async function fitSequences(model: tf.LayersModel, d: Dataset, learningRate: number, epochs: number, val?: Dataset): Promise<number[]> {
  const s = subset(d, seededPermutation(d.y.length, 7));
  const xs = tf.tensor(s.x, s.shape);
  const ys = tf.oneHot(tf.tensor1d(s.y, 'int32'), K);
  const scores: number[] = [];
  model.compile({ optimizer: tf.train.adam(learningRate), loss: 'categoricalCrossentropy' });
  await model.fit(xs, ys, {
    epochs,
    batchSize: BATCH,
    shuffle: false,
    verbose: 0,
    callbacks: val ? { onEpochEnd: async () => void scores.push(Number(accuracy(model, val).toFixed(4))) } : undefined,
  });
  xs.dispose();
  ys.dispose();
  return scores;
}

function buildLstm(name: string, units: number, T: number, F: number): tf.LayersModel {
  const model = tf.sequential({ name });
  model.add(tf.layers.inputLayer({ inputShape: [T, F], name: 'sst_columns' }));
  // Sigmoid gates (Keras's default; TF.js's own default is hard sigmoid): the file states it either way.
  model.add(tf.layers.lstm({ units, recurrentActivation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 16001 }), recurrentInitializer: tf.initializers.orthogonal({ seed: 16002 }), name: 'lstm' }));
  model.add(tf.layers.dense({ units: K, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 16003 }), name: 'probs' }));
  return model;
}

export async function makeLstm(samplesDir: string): Promise<RecurrentMetrics> {
  const name = 'lstm_columns';
  const d = await dataset(samplesDir, name);
  const { before: tr, after: te } = split(d, TEST_FROM);
  const { before: fit, after: val } = split(tr, VALIDATION_FROM);
  const [, T, F] = d.shape;
  // Settings and number of epochs: the best validation accuracy of runs on the years before the validation
  // years (ties to the earlier setting, then to fewer epochs); then the same seeds on all training years.
  const tried: { units: number; learningRate: number; accuracyByEpoch: number[] }[] = [];
  for (const c of LSTM_CONFIGS) {
    const probe = buildLstm(name, c.units, T, F);
    tried.push({ units: c.units, learningRate: c.learningRate, accuracyByEpoch: await fitSequences(probe, fit, c.learningRate, c.maxEpochs, val) });
    probe.dispose();
  }
  const best = tried.reduce((a, b) => (Math.max(...b.accuracyByEpoch) > Math.max(...a.accuracyByEpoch) ? b : a));
  const epochs = 1 + best.accuracyByEpoch.indexOf(Math.max(...best.accuracyByEpoch));
  const model = buildLstm(name, best.units, T, F);
  await fitSequences(model, tr, best.learningRate, epochs);
  const dir = join(samplesDir, 'models', name);
  const topology = await saveTfjs(model, dir);
  const { weights, layerNames } = kerasWeights(model);
  await writeKerasH5(join(dir, 'model.h5'), { class_name: topology.class_name, config: topology.config }, weights, { style: 'keras2', layerNames });
  const m: RecurrentMetrics = {
    ...common(name, `small LSTM (${best.units} units) fed column by column (longitude as time, ${T} steps of ${F} latitudes), softmax read-out of the last state`, d, tr, te),
    trainAccuracy: Number(accuracy(model, tr).toFixed(4)),
    testAccuracy: Number(accuracy(model, te).toFixed(4)),
    lstm: { units: best.units, learningRate: best.learningRate, epochs, batchSize: BATCH, selection: { validationYears: yearsOf(val), validationMonths: val.y.length, fitYears: yearsOf(fit), tried } },
  };
  model.dispose();
  return m;
}

export const RECURRENT_SAMPLES: Record<string, (dir: string) => Promise<RecurrentMetrics>> = { esn_columns: makeEsn, lstm_columns: makeLstm };

/** Train the recurrent samples (all, or those named in `only`), printing one line each. */
export async function makeRecurrentSamples(samplesDir: string, only: string[] = []): Promise<RecurrentMetrics[]> {
  // The wasm backend has every gradient an LSTM needs and trains it about five times faster than cpu.
  await useBackend('wasm');
  const out: RecurrentMetrics[] = [];
  for (const [name, make] of Object.entries(RECURRENT_SAMPLES)) {
    if (only.length && !only.includes(name)) continue;
    const t0 = Date.now();
    const m = await make(samplesDir);
    out.push(m);
    const extra = m.esn ? `  leak ${m.esn.leak} ridge ${m.esn.ridge}` : m.lstm ? `  ${m.lstm.epochs} epochs` : '';
    process.stdout.write(`${m.name.padEnd(24)} train ${m.trainYears} (${m.trainMonths}) acc ${m.trainAccuracy.toFixed(3)}  test ${m.testYears} (${m.testMonths}) acc ${m.testAccuracy.toFixed(3)} (majority class ${m.majorityBaseline.toFixed(3)})${extra}  ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  return out;
}

/** Replace these models' entries in metrics.json, keep the others (in their order, new ones last). */
export function mergeMetrics(file: string, metrics: { name: string }[]): void {
  const old = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { note?: string; models: { name: string }[] }) : { models: [] };
  const byName = new Map(old.models.map((m) => [m.name, m]));
  for (const m of metrics) byName.set(m.name, m);
  writeFileSync(file, JSON.stringify({ note: old.note ?? 'made by npm run samples; accuracy on held-out years', models: [...byName.values()] }, null, 2) + '\n');
}

async function main(): Promise<void> {
  const dir = resolve(process.argv[2] ?? 'samples');
  const metrics = await makeRecurrentSamples(dir, process.argv.slice(3));
  mkdirSync(join(dir, 'models'), { recursive: true });
  mergeMetrics(join(dir, 'models', 'metrics.json'), metrics);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e) => {
    process.stderr.write(`make-recurrent: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
