/**
 * One model of the project, analysed for the report through its session (core/session/: the same
 * composite, parameters, ZBox bounds and mask as `lrp-lens check` and the language server choose):
 * static findings, class-mean relevance maps (the samples of each class, explained for that class), the
 * relevance-map checks with their controls (cascading randomization, blank prior, geometry twin), the
 * fact/artifact summary and the relevance share inside the Nino-3.4 box. Everything on the data's
 * lat x lon grid for drawing.
 */
import { basename, extname } from 'node:path';
import type { ModelGraph } from '../model/graph.js';
import type { ModelInput } from '../data/pipeline.js';
import type { ModelEntry, LensProject } from '../data/project.js';
import { expandModelGlob } from '../walk.js';
import { summarize, type ModelSummary } from '../artifacts/summary.js';
import type { Finding } from '../artifacts/finding.js';
import { firstLayerBand, stridePeriod } from '../artifacts/checks/map-common.js';
import { randomizationSimilarities } from '../artifacts/checks/lrp207-randomization.js';
import { isWindowed } from '../artifacts/geometry.js';
import { LensError } from '../errors.js';
import { classOutputs } from './classes.js';
import { accuracyInYears, type Accuracy } from './accuracy.js';
import { batchToGrid, displayGrid, type DisplayGrid } from '../session/data-grid.js';
import { explain, openSession, type Session } from '../session/session.js';
import type { ChoiceLayer } from '../session/composite-choice.js';
import { datesToIndices, pickByLabel, type SampleSelection } from '../session/samples.js';
import { checkMaps, staticFindings as sessionStaticFindings } from '../session/check-maps.js';
import { areaShare, boxWeights, entryBoxes, NINO34, regionShare, type LatLonBox } from './regions.js';
import { remedyTwins } from '../artifacts/remedy-twins.js';

export interface ClassMap {
  name: string;
  label: number;
  output: number;
  /** Samples averaged. */
  n: number;
  /** Mean relevance (signed) per cell, on the data grid. */
  mean: Float64Array;
  /** Mean share of |R| per cell (each sample normalized to 1 first). */
  absShare: Float64Array;
  ninoShare: number;
}

export interface ModelAnalysis {
  name: string;
  /** The model file explained (the first of the entry's files in preference order). */
  file: string;
  /** Every file the entry's path or glob matched. */
  files: string[];
  format: string;
  composite: string;
  graph: ModelGraph;
  grid: DisplayGrid;
  staticFindings: Finding[];
  mapFindings: Finding[];
  summary: ModelSummary;
  classes: ClassMap[];
  /** Nino-3.4 share of |R| over all explained samples (each class explained for itself). */
  ninoShare: number;
  /** Share of the (unmasked) cells inside the box: what an even spread would give. */
  ninoArea: number;
  ninoWeights: Float64Array;
  /** The boxes the figures outline: the entry's regions, or Nino-3.4 where it names none. */
  regions: LatLonBox[];
  /** Mean |R| share of the checks' maps (predicted class), trained and cascading-randomized. */
  trainedAbs: Float64Array;
  randomized: { layers: string[]; absShare: Float64Array; similarity: number }[];
  /** Remedy twins of the warnings (remedy-twins.ts): the map without the artifact, with the check's statistic on both. */
  twins: { code: string; name: string; statistic: number; twinStatistic: number; statisticName: string; absShare: Float64Array }[];
  /** Border band width (first windowed layer's receptive field) for grid models. */
  band?: number;
  stride?: { period: number; strided: boolean };
  samplesPerClass: number;
  /** Accuracy recomputed on the test years, when they were given. */
  heldOut?: Accuracy;
  seconds: number;
}

export interface AnalyzeOptions {
  /** Samples per class (default 32). */
  samples?: number;
  /** Composite when the entry names none (the settings layer of the session's precedence). */
  composite?: string;
  /** The composite flags of `lrp-lens report` (the request layer: they win over the entry's). */
  request?: ChoiceLayer;
  /** Held-out years: the accuracy on them is recomputed (a check of the metrics the training script wrote). */
  testYears?: [number, number];
  /** --dates / --time: the class samples are picked among these months only. */
  period?: Pick<SampleSelection, 'dates' | 'timeRange'>;
}

/** TF.js's own model.json first (the format the training script saves natively), then the rest by name. */
export function preferredModelFile(files: string[]): string {
  const rank = (f: string): number => (basename(f) === 'model.json' ? 0 : extname(f) === '.h5' ? 1 : 2);
  return [...files].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))[0];
}

export async function entryModelFiles(project: LensProject, entry: ModelEntry): Promise<string[]> {
  // Walked inside the glob's folder only (walk.ts): a project's glob cannot list /proc/<pid>/cwd.
  const files = await expandModelGlob(project.dir, entry.model, (f) => !f.endsWith('.bin'));
  if (files.length === 0) throw new LensError('FILE_NOT_FOUND', `no model file matches '${entry.model}' (relative to ${project.dir})`, { file: project.file });
  return files.sort();
}

/** The entry's session: its preferred model file on the entry's data, with the report's choice. */
export async function loadEntry(project: LensProject, entry: ModelEntry, opts: Pick<AnalyzeOptions, 'composite' | 'request'> = {}, file?: string): Promise<{ session: Session; graph: ModelGraph; input: ModelInput; files: string[]; file: string }> {
  const files = await entryModelFiles(project, entry);
  const f = file ?? preferredModelFile(files);
  const session = await openSession({ model: f, data: { kind: 'project', project, entry }, request: opts.request, settings: opts.composite ? { composite: opts.composite } : undefined });
  return { session, graph: session.graph, input: session.data!.input!, files, file: f };
}

/** Per-sample |R| normalized to 1, averaged: the same statistic as the checks' cell shares, on the data grid. */
function absShare(maps: Float64Array[]): Float64Array {
  const out = new Float64Array(maps[0]?.length ?? 0);
  let used = 0;
  for (const m of maps) {
    let tot = 0;
    for (const v of m) if (Number.isFinite(v)) tot += Math.abs(v);
    if (!(tot > 0)) continue;
    used++;
    for (let i = 0; i < m.length; i++) if (Number.isFinite(m[i])) out[i] += Math.abs(m[i]) / tot;
  }
  if (used) for (let i = 0; i < out.length; i++) out[i] /= used;
  return out;
}

function mean(maps: Float64Array[]): Float64Array {
  const out = new Float64Array(maps[0]?.length ?? 0);
  for (const m of maps) for (let i = 0; i < m.length; i++) out[i] += m[i];
  if (maps.length) for (let i = 0; i < out.length; i++) out[i] /= maps.length;
  return out;
}

function outputCount(graph: ModelGraph): number {
  const s = graph.outputs[0]?.fileShape ?? [];
  return s.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1);
}

export async function analyzeEntry(project: LensProject, entry: ModelEntry, opts: AnalyzeOptions = {}): Promise<ModelAnalysis> {
  const t0 = Date.now();
  const perClass = Math.max(1, Math.floor(opts.samples ?? 32));
  const { session, graph, input, files, file } = await loadEntry(project, entry, opts);
  if (!input.labels) throw new LensError('CONFIG_ERROR', `model '${entry.name}': the report needs labels (class-mean maps)`, { file: project.file });
  const composite = session.choice.composite;
  const grid = displayGrid(input);
  const weights = boxWeights(grid.lat, grid.lon, NINO34);
  const map = classOutputs(input.classNames, outputCount(graph), Math.max(...input.labels) + 1);

  // Class-mean maps: the samples of each class, explained for that class.
  const classes: ClassMap[] = [];
  const allPicked: number[] = [];
  const allMaps: Float64Array[] = [];
  // El Nino and La Nina (the classes the Nino-3.4 box defines) where the project names them, else every class.
  // Samples by date: the classes' picks come from the months asked (the axis's span named when one is not there).
  const pool = datesToIndices(session.data!.times, input.labels.length, opts.period ?? {}, project.file);
  const enso = map.filter((c) => c.output >= 0 && /ni[nñ][oa]/i.test(c.name));
  for (const c of enso.length ? enso : map) {
    if (c.output < 0) continue;
    const idx = pool ? pickByLabel(pool.map((i) => input.labels![i]), c.label, perClass).map((k) => pool[k]) : pickByLabel(input.labels, c.label, perClass);
    if (idx.length === 0) continue;
    const e = await explain(session, { indices: idx, maxSamples: idx.length, target: { type: 'index', index: c.output } });
    const maps = batchToGrid(grid, e.relevance.data, idx.length);
    const share = absShare(maps);
    classes.push({ name: c.name, label: c.label, output: c.output, n: idx.length, mean: mean(maps), absShare: share, ninoShare: regionShare(share, weights) });
    allPicked.push(...idx);
    allMaps.push(...maps);
  }
  if (classes.length === 0) throw new LensError('CONFIG_ERROR', `model '${entry.name}': no samples of the classes to explain`, { file: project.file });

  // Static and relevance-map checks on the same samples (the checks explain the predicted class), judged
  // on the data's grid: a wrapped input's copies folded onto their cells, an MLP's maps back on the grid.
  const staticFindings = sessionStaticFindings(session);
  const { mapFindings, ctx: onGrid, raw: ctx } = await checkMaps(session, { indices: allPicked, maxSamples: allPicked.length });
  const summary = summarize(graph, [...staticFindings, ...mapFindings], onGrid);
  const sims = randomizationSimilarities(onGrid);
  const randomized = (ctx.randomized ?? []).map((r, i) => ({ layers: r.layers, absShare: absShare(batchToGrid(grid, r.relevance, ctx.n)), similarity: sims[i]?.similarity ?? NaN }));
  const windowed = graph.nodes.some(isWindowed);

  return {
    name: entry.name,
    file,
    files,
    format: graph.format.version.startsWith(graph.format.name) ? graph.format.version : `${graph.format.name} ${graph.format.version}`.trim(),
    composite,
    graph,
    grid,
    staticFindings,
    mapFindings,
    summary,
    classes,
    ninoShare: regionShare(absShare(allMaps), weights),
    ninoArea: areaShare(weights, grid.masked),
    ninoWeights: weights,
    regions: entryBoxes(entry),
    trainedAbs: absShare(batchToGrid(grid, ctx.relevance, ctx.n)),
    randomized,
    twins: remedyTwins(ctx, mapFindings).map(({ relevance, ...t }) => ({ ...t, absShare: absShare(batchToGrid(grid, relevance, ctx.n)) })),
    band: windowed ? firstLayerBand(graph) : undefined,
    stride: windowed ? stridePeriod(graph) : undefined,
    samplesPerClass: perClass,
    heldOut: opts.testYears ? accuracyInYears(graph, input, opts.testYears) : undefined,
    seconds: (Date.now() - t0) / 1000,
  };
}
