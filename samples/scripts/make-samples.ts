/**
 * `npm run samples`: trains the sample El Nino / La Nina classifiers on the real ERSSTv5 data in
 * samples/data, through the same data pipeline and lrp-lens.json that the analyzer uses, and saves each
 * as a TF.js layers model (tfjs-layers' own save) and as Keras 2 HDF5 (our h5wasm writer). Held-out
 * accuracy (split by years: no month of a test year is seen in training) goes to samples/models/metrics.json.
 * The recurrent samples (an echo state network and an LSTM fed the field column by column) come from
 * make-recurrent.ts.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { useBackend } from '../../server/src/core/backend.js';
import { buildModelInput } from '../../server/src/core/data/pipeline.js';
import { findEntry, readProject } from '../../server/src/core/data/project.js';
import { writeKerasH5 } from '../../server/src/core/model/writers/keras-h5-writer.js';
import { kerasWeights } from './keras-weights.js';
import { SAMPLES, seedModel, type SampleSpec } from './architectures.js';
import { makeRecurrentSamples } from './make-recurrent.js';
import { installFastFilterGrad } from './fast-filter-grad.js';
import { accuracy, saveTfjs, subset, train, type Dataset } from './train.js';

const SAMPLES_DIR = resolve(process.argv[2] ?? 'samples');
/** First year held out for testing, per data set (the 2-degree file only covers 2010-2020). */
const TEST_FROM: Record<SampleSpec['data'], number> = { grid5: 2011, ocean2: 2018 };
const EPOCHS: Record<SampleSpec["data"], number> = { grid5: 25, ocean2: 40 };

export interface SampleMetrics {
  name: string;
  purpose: string;
  inputShape: number[];
  trainMonths: number;
  testMonths: number;
  trainYears: string;
  testYears: string;
  trainAccuracy: number;
  testAccuracy: number;
  /** Test accuracy of always answering the training years' most frequent class: the bar a model must clear. */
  majorityBaseline: number;
  classCounts: number[];
  testClassCounts: number[];
  /** The hidden layer's L2 penalty, chosen on validation years inside the training years (l2Grid models). */
  l2Selection?: { l2: number; validationYears: string; validationMonths: number; scores: { l2: number; accuracy: number }[] };
}

async function dataset(spec: SampleSpec): Promise<{ d: Dataset; classNames: string[] }> {
  const project = await readProject(join(SAMPLES_DIR, 'lrp-lens.json'));
  const entry = findEntry(project, spec.name);
  const input = await buildModelInput(entry);
  if (!input.labels || !input.times) throw new Error(`${spec.name}: the project entry gives no labels or dates`);
  const years = Int32Array.from(input.times.map((t) => Number(t.slice(0, 4))));
  return { d: { x: input.x.data, shape: input.x.shape, y: input.labels, years }, classNames: input.classNames ?? [] };
}

/**
 * The L2 penalty with the best accuracy on the last two training years, each candidate trained on the
 * years before them (same seeds); the test years are never looked at. Ties go to the smaller penalty.
 */
async function chooseL2(spec: SampleSpec, tr: Dataset): Promise<NonNullable<SampleMetrics['l2Selection']>> {
  const last = Math.max(...tr.years);
  const idx = (f: (y: number) => boolean): number[] => [...tr.years.keys()].filter((i) => f(tr.years[i]));
  const fit = subset(tr, idx((y) => y < last - 1));
  const val = subset(tr, idx((y) => y >= last - 1));
  const scores: { l2: number; accuracy: number }[] = [];
  for (const l2 of spec.l2Grid!) {
    seedModel(SAMPLES.indexOf(spec));
    const m = spec.build(tr.shape.slice(1), { l2 });
    await train(m, fit, EPOCHS[spec.data], 7);
    scores.push({ l2, accuracy: Number(accuracy(m, val).toFixed(4)) });
    m.dispose();
  }
  const best = scores.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
  return { l2: best.l2, validationYears: `${last - 1}-${last}`, validationMonths: val.y.length, scores };
}

async function makeOne(spec: SampleSpec): Promise<SampleMetrics> {
  const { d } = await dataset(spec);
  const testFrom = TEST_FROM[spec.data];
  const trainIdx: number[] = [];
  const testIdx: number[] = [];
  d.years.forEach((y, i) => (y < testFrom ? trainIdx : testIdx).push(i));
  const tr = subset(d, trainIdx);
  const te = subset(d, testIdx);
  const selection = spec.l2Grid ? await chooseL2(spec, tr) : undefined;
  seedModel(SAMPLES.indexOf(spec));
  const model = spec.build(d.shape.slice(1), { l2: selection?.l2 });
  await train(model, tr, EPOCHS[spec.data], 7);
  const dir = join(SAMPLES_DIR, 'models', spec.name);
  const topology = await saveTfjs(model, dir);
  const { weights, layerNames } = kerasWeights(model);
  await writeKerasH5(join(dir, 'model.h5'), { class_name: topology.class_name, config: topology.config }, weights, { style: 'keras2', layerNames });
  const counts = [0, 0, 0];
  for (const y of d.y) counts[y]++;
  const trainCounts = [0, 0, 0];
  for (const y of tr.y) trainCounts[y]++;
  const testCounts = [0, 0, 0];
  for (const y of te.y) testCounts[y]++;
  const majority = trainCounts.indexOf(Math.max(...trainCounts));
  const yr = (x: Dataset) => `${Math.min(...x.years)}-${Math.max(...x.years)}`;
  return {
    name: spec.name,
    purpose: spec.purpose,
    inputShape: d.shape.slice(1),
    trainMonths: tr.y.length,
    testMonths: te.y.length,
    trainYears: yr(tr),
    testYears: yr(te),
    trainAccuracy: Number(accuracy(model, tr).toFixed(4)),
    testAccuracy: Number(accuracy(model, te).toFixed(4)),
    majorityBaseline: Number((testCounts[majority] / te.y.length).toFixed(4)),
    classCounts: counts,
    testClassCounts: testCounts,
    ...(selection ? { l2Selection: selection } : {}),
  };
}

async function main(): Promise<void> {
  // Training needs gradient kernels (Conv2DBackpropFilter) that the wasm backend lacks.
  await useBackend('cpu');
  installFastFilterGrad();
  const only = process.argv.slice(3);
  const metrics: SampleMetrics[] = [];
  for (const spec of SAMPLES) {
    if (only.length && !only.includes(spec.name)) continue;
    const t0 = Date.now();
    const m = await makeOne(spec);
    metrics.push(m);
    process.stdout.write(`${m.name.padEnd(24)} train ${m.trainYears} (${m.trainMonths}) acc ${m.trainAccuracy.toFixed(3)}  test ${m.testYears} (${m.testMonths}) acc ${m.testAccuracy.toFixed(3)} (majority class ${m.majorityBaseline.toFixed(3)})  ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  // The echo state network and the LSTM fed the field column by column (make-recurrent.ts).
  metrics.push(...(await makeRecurrentSamples(SAMPLES_DIR, only)));
  mkdirSync(join(SAMPLES_DIR, 'models'), { recursive: true });
  // A subset run replaces its models' entries in the existing metrics and keeps the others.
  const file = join(SAMPLES_DIR, 'models', 'metrics.json');
  const old: SampleMetrics[] = only.length && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { models: SampleMetrics[] }).models : [];
  const byName = new Map([...old, ...metrics].map((m) => [m.name, m]));
  const order = (n: string) => (SAMPLES.findIndex((s) => s.name === n) + SAMPLES.length + 1) % (SAMPLES.length + 1);
  const merged = [...byName.values()].sort((a, b) => order(a.name) - order(b.name));
  writeFileSync(file, JSON.stringify({ note: 'made by npm run samples; accuracy on held-out years', models: merged }, null, 2) + '\n');
}

main().catch((e) => {
  process.stderr.write(`make-samples: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
