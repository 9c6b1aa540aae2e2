/**
 * `lrp-lens explain [MODEL] (--input X.npy | --data FILE [--var NAME] [--select DIM=A:B,...] [--fill V] |
 *  --config lrp-lens.json [--model NAME]) [--composite NAME] [--epsilon E] [--gamma G] [--low L --high H]
 *  [--rules FILE|SPEC] [--target predicted|label|INDEX|A-B|regression] [--init onehot|output]
 *  [--max-pool winner|avg] [--backend NAME] [--batch-size N] --out R.npy [--layout grid|model] [--json]`
 *
 * The input comes from resolveInput (input.ts); with --config, MODEL defaults to the entry's model file
 * and the entry's `explain` composite and target apply unless given here. epsilon-gamma-box without
 * --low/--high takes the data's own range when the input is a data file or project entry.
 * R has the shape and layout of the model input. With --json: per sample target, output, relevance sum
 * (and date and label where the data give them); per layer the relevance sums (the conservation report);
 * what canonization did (a stripped softmax, merged BNs).
 */
import { writeFile } from 'node:fs/promises';
import { checkComposite, parseArgs, flagInt, flagNumber, flagString, requireFlag } from './args.js';
import { LensError } from '../core/errors.js';
import { loadModel } from '../core/model/load.js';
import { type NdArray, writeNpy } from '../core/data/npy.js';
import { dataRange, resolveInput, INPUT_FLAGS, type ResolvedInput } from './input.js';
import { scatterFeatures } from '../core/data/pipeline.js';
import { checkFlags, dataFile, INPUT_FLAG_NAMES, modelFor } from './project-model.js';
import { useBackend } from '../core/compute/backend.js';
import { BACKEND_NAMES, isBackendName } from '../core/names.js';
import { LrpExplainer, type Explanation } from '../core/lrp/engine.js';
import type { InitMode } from '../core/lrp/composites.js';
import { parseTarget } from '../core/lrp/targets.js';
import { outputFile } from './files.js';
import { readRuleMap } from './rule-map.js';

const USAGE =
  `usage: lrp-lens explain [MODEL] (${INPUT_FLAGS}) [--composite NAME] [--epsilon E] [--gamma G] [--low L --high H] [--rules FILE|SPEC] ` +
  '[--target predicted|label|INDEX|A-B|regression] [--init onehot|output] [--max-pool winner|avg] [--backend NAME] [--batch-size N] --out R.npy [--layout grid|model] [--json]';

/** A bound: a number or comma-separated per-channel values. */
function bound(text: string | undefined, name: string): number | number[] | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.some((v) => !Number.isFinite(v))) throw new LensError('USAGE', `--${name} must be a number or comma-separated numbers, got '${text}'`);
  return parts.length === 1 ? parts[0] : parts;
}


/** Per-sample facts from the data: date, label (class index, its name, the index value it was thresholded from). */
function sampleInfo(input: ResolvedInput | undefined, s: number): Record<string, unknown> {
  if (!input) return {};
  const o: Record<string, unknown> = {};
  if (input.times?.[s] !== undefined) o.date = input.times[s];
  if (input.labels) {
    o.label = input.labels[s];
    if (input.classNames?.[input.labels[s]] !== undefined) o.labelName = input.classNames[input.labels[s]];
    if (input.labelValues) o.labelValue = input.labelValues[s];
  }
  return o;
}

export function explanationJson(e: Explanation, extra: Record<string, unknown> = {}, input?: ResolvedInput): Record<string, unknown> {
  const k = e.output.shape[1];
  return {
    ...extra,
    composite: e.composite,
    init: e.init,
    layout: e.layout,
    shape: e.relevance.shape,
    strippedOutput: e.canonical.strippedOutput ?? null,
    mergedBatchNorms: e.canonical.mergedBatchNorms,
    samples: e.targets.map((t, s) => ({
      ...sampleInfo(input, s),
      target: t.minus !== undefined ? `${t.index}-${t.minus}` : t.index,
      targetValue: t.value,
      output: Array.from(e.output.data.subarray(s * k, (s + 1) * k)),
      relevanceSum: e.relevanceSum[s],
    })),
    layers: e.layers.map((l) => ({ name: l.name, kind: l.kind, rule: l.rule, relevanceSum: l.relevanceSum })),
  };
}

/** Where the input came from, for --json: file, axes, coordinates' extent, the project entry. */
function inputJson(r: ResolvedInput): Record<string, unknown> {
  const o: Record<string, unknown> = { from: r.from, file: dataFile(r), shape: r.x.shape };
  if (r.entry) o.entry = r.entry.name;
  if (r.dims) o.dims = r.dims;
  if (r.wrapLon) o.wrapLon = r.wrapLon;
  if (r.classNames) o.classNames = r.classNames;
  for (const axis of ['lat', 'lon'] as const) {
    const c = r.coords?.[axis];
    if (c && c.values.length) o[axis] = { dim: c.dim, first: c.values[0], last: c.values[c.values.length - 1], count: c.values.length };
  }
  return o;
}

/** One explanation per label class (the engine takes one target for a batch), put back in sample order. */
function explainByLabel(ex: LrpExplainer, x: NdArray & { data: Float32Array }, labels: Int32Array, opts: { init?: InitMode; chunkSize?: number }): Explanation {
  const n = x.shape[0];
  const per = x.data.length / Math.max(n, 1);
  const groups = new Map<number, number[]>();
  for (let s = 0; s < n; s++) groups.set(labels[s], [...(groups.get(labels[s]) ?? []), s]);
  let merged: Explanation | undefined;
  for (const [cls, idx] of groups) {
    const data = new Float32Array(idx.length * per);
    idx.forEach((s, j) => data.set(x.data.subarray(s * per, (s + 1) * per), j * per));
    const part = ex.explain({ shape: [idx.length, ...x.shape.slice(1)], data, dtype: 'f4' }, { ...opts, target: { type: 'index', index: cls } });
    const rper = part.relevance.data.length / idx.length;
    const k = part.output.shape[1];
    if (!merged) {
      merged = {
        ...part,
        relevance: { ...part.relevance, shape: [n, ...part.relevance.shape.slice(1)], data: new Float32Array(n * rper) },
        targets: new Array(n),
        output: { shape: [n, k], data: new Float32Array(n * k) },
        relevanceSum: new Array<number>(n),
        layers: part.layers.map((l) => ({ ...l, relevanceSum: new Array<number>(n) })),
      };
    }
    const m = merged;
    idx.forEach((s, j) => {
      (m.relevance.data as Float32Array).set((part.relevance.data as Float32Array).subarray(j * rper, (j + 1) * rper), s * rper);
      m.output.data.set(part.output.data.subarray(j * k, (j + 1) * k), s * k);
      m.targets[s] = part.targets[j];
      m.relevanceSum[s] = part.relevanceSum[j];
      part.layers.forEach((l, li) => (m.layers[li].relevanceSum[s] = l.relevanceSum[j]));
    });
  }
  if (!merged) return ex.explain(x, opts);
  return merged;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  const [modelArg, ...extra] = args.positional;
  if (extra.length || (!modelArg && !args.flags.has('config'))) throw new LensError('USAGE', USAGE);
  checkFlags(args, [...INPUT_FLAG_NAMES, 'out', 'json', 'composite', 'epsilon', 'gamma', 'low', 'high', 'rules', 'target', 'init', 'max-pool', 'backend', 'batch-size', 'layout']);
  const out = await outputFile(requireFlag(args, 'out'), '--out');
  const backend = flagString(args, 'backend') ?? 'wasm';
  if (!isBackendName(backend)) throw new LensError('USAGE', `--backend must be one of ${BACKEND_NAMES.join(', ')}`);
  const init = flagString(args, 'init') as InitMode | undefined;
  if (init !== undefined && init !== 'onehot' && init !== 'output') throw new LensError('USAGE', `--init must be onehot or output, got '${init}'`);
  const maxPool = flagString(args, 'max-pool');
  if (maxPool !== undefined && maxPool !== 'winner' && maxPool !== 'avg') throw new LensError('USAGE', `--max-pool must be winner or avg`);
  const eps = flagNumber(args, 'epsilon', 0);
  const gamma = flagNumber(args, 'gamma', 0);
  let low = bound(flagString(args, 'low'), 'low');
  let high = bound(flagString(args, 'high'), 'high');
  const batch = flagInt(args, 'batch-size', 1);
  const layout = flagString(args, 'layout') ?? 'grid';
  if (layout !== 'grid' && layout !== 'model') throw new LensError('USAGE', `--layout must be grid or model, got '${layout}'`);
  if (flagString(args, 'composite') !== undefined) checkComposite(flagString(args, 'composite')!, '--composite');
  const targetText = flagString(args, 'target');
  if (targetText !== 'label') parseTarget(targetText); // usage errors before any file is read
  const rules = await readRuleMap(flagString(args, 'rules'));

  const model = await modelFor(args, modelArg);
  const graph = await loadModel(model);
  const input = await resolveInput(args, graph.inputs[0].fileShape);
  const x = input.x;
  // The project's explain defaults apply where the command line says nothing.
  const composite = flagString(args, 'composite') ?? input.explain?.composite ?? 'epsilon';
  checkComposite(composite, flagString(args, 'composite') === undefined ? `${input.entry?.name ?? 'the project'}'s explain.composite` : '--composite');
  const projectTarget = input.explain?.target;
  const targetSpec = targetText ?? (projectTarget === undefined ? undefined : String(projectTarget));
  let bounds: 'given' | 'data' | undefined = low !== undefined && high !== undefined ? 'given' : undefined;
  if (composite === 'epsilon-gamma-box' && (low === undefined || high === undefined)) {
    // A raw array carries no hint of its valid range; data from a file or project do: their own range.
    if (input.from === 'npy') throw new LensError('USAGE', 'epsilon-gamma-box needs the input bounds: --low L --high H');
    const [lo, hi] = dataRange(x.data);
    low ??= lo;
    high ??= hi;
    bounds = 'data';
  }
  if (targetSpec === 'label' && !input.labels) {
    throw new LensError('USAGE', `target 'label' needs labels: give them in lrp-lens.json ("labels") or choose --target predicted|INDEX`);
  }
  const target = targetSpec === 'label' ? undefined : parseTarget(targetSpec);

  const used = await useBackend(backend);
  const ex = new LrpExplainer(graph, { composite, epsilon: eps, gamma, low, high, ruleMap: rules, maxPool: maxPool as 'winner' | 'avg' | undefined });
  let e: Explanation;
  try {
    e = targetSpec === 'label' ? explainByLabel(ex, x, input.labels!, { init, chunkSize: batch }) : ex.explain(x, { target, init, chunkSize: batch });
  } finally {
    ex.dispose();
  }
  // A flatten "valid" input (an MLP on the ocean cells) is written on its grid, NaN where no input
  // value lies (land), so the file reads as a map; --layout model keeps the model's feature vector.
  const sc = layout === 'grid' ? input.scatter : undefined;
  const n = e.relevance.shape[0];
  const written = sc ? { data: scatterFeatures(sc, e.relevance.data as Float32Array, n, NaN), shape: [n, ...sc.gridShape] } : { data: e.relevance.data as Float32Array, shape: e.relevance.shape };
  await writeFile(out, writeNpy(written.data, written.shape));
  if (args.flags.get('json') === true) {
    const head: Record<string, unknown> = { model: graph.file, backend: used, out, outShape: written.shape, input: inputJson(input), target: targetSpec ?? 'predicted' };
    if (sc) head.outGrid = { dims: sc.gridDims, cells: sc.indices.length, fill: 'NaN' };
    if (bounds) head.bounds = { low, high, from: bounds };
    process.stdout.write(JSON.stringify(explanationJson(e, head, input), null, 2) + '\n');
  } else {
    const lines = [`relevance (${written.shape.join(', ')}, ${sc ? `on the grid [${sc.gridDims.join(', ')}], NaN off the model's ${sc.indices.length} input cells` : e.layout}) -> ${out}`, `composite ${e.composite}, init ${e.init}, backend ${used}`];
    if (input.from !== 'npy') lines.push(`input from ${dataFile(input)}${input.entry ? ` (project entry ${input.entry.name})` : ''}: (${x.shape.join(', ')})${input.dims ? ` [${input.dims.join(', ')}]` : ''}`);
    if (bounds === 'data') lines.push(`box bounds from the data's range: low ${low}, high ${high}`);
    if (e.canonical.strippedOutput) lines.push(`explains the value before the final ${e.canonical.strippedOutput.activation} (layer ${e.canonical.strippedOutput.explains})`);
    e.targets.forEach((t, s) => {
      const info = sampleInfo(input, s);
      const tag = [info.date, info.labelName ?? info.label].filter((v) => v !== undefined).join(', ');
      lines.push(`sample ${s}${tag ? ` (${tag})` : ''}: target ${t.minus !== undefined ? `${t.index}-${t.minus}` : t.index} (value ${t.value.toPrecision(6)}), relevance sum ${e.relevanceSum[s].toPrecision(6)}`);
    });
    process.stdout.write(lines.join('\n') + '\n');
  }
  return 0;
}
