/**
 * `lrp-lens explain [MODEL] (--input X.npy | --data FILE [--var NAME] [--select DIM=A:B,...] [--fill V] |
 *  --config lrp-lens.json [--model NAME]) [--dates D1,D2 | --time FROM:TO] [--composite NAME] [--epsilon E] [--gamma G] [--low L --high H]
 *  [--rules FILE|SPEC] [--target predicted|label|INDEX|A-B|regression|mean|pixel:R,C[,CH]|region:R0:R1,C0:C1[,CH][,mean|sum]]
 *  [--init onehot|output] [--max-pool winner|avg] [--backend NAME] [--batch-size N] --out R.npy|R.nc [--layout grid|model] [--json]`
 *
 * A thin caller of the session (core/session/): the input from the flags (input.ts), the composite flags
 * (composite-flags.ts); with --config, MODEL defaults to the entry's model file and the entry's `explain`
 * composite and target apply unless given here. epsilon-gamma-box without --low/--high takes the data's
 * own range (any input, a .npy too). --method gradient (or another baseline) runs that attributor in
 * place of the composite, through the same engine.
 * R.npy has the shape and layout of the model input. R.nc (by extension) is a CF NetCDF file (CDF-2) with
 * the data's coordinates, the relevance and the input on the data's grid (session/relevance-netcdf.ts). With --json: per sample target, output, relevance sum
 * (and date and label where the data give them); per layer the relevance sums (the conservation report);
 * what canonization did (a stripped softmax, merged BNs).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs, flagInt, flagString, requireFlag } from './args.js';
import { LensError } from '../core/errors.js';
import { writeNpy } from '../core/data/npy.js';
import { dataSourceOf, INPUT_FLAGS, type ResolvedInput } from './input.js';
import { checkFlags, dataFile, INPUT_FLAG_NAMES, modelFor } from './project-model.js';
import { useEngine } from '../core/lrp-onnx/ort-providers.js';
import { BACKEND_NAMES, isBackendName } from '../core/names.js';
import { outputFile, outputFolder } from './files.js';
import { parseShard } from '../core/session/shards.js';
import { COMPOSITE_FLAG_NAMES, COMPOSITE_FLAGS_USAGE, compositeFlags } from './composite-flags.js';
import { DATE_FLAG_NAMES, DATE_FLAGS_USAGE, dateFlags, hasDates } from './date-flags.js';
import { explain, openSession, type SessionExplanation } from '../core/session/session.js';
import { featuresOnGrid } from '../core/session/data-grid.js';
import { sessionRelevanceNetcdf } from '../core/session/relevance-netcdf.js';

const USAGE = `usage: lrp-lens explain [MODEL] (${INPUT_FLAGS}) ${DATE_FLAGS_USAGE} ${COMPOSITE_FLAGS_USAGE} [--max-pool winner|avg] [--backend NAME] [--batch-size N] --out R.npy|R.nc [--layout grid|model] [--json]\n       lrp-lens explain ... --shard I/N [--maps] [--no-checks] --out DIR   (then lrp-lens merge DIR...)`;

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

/** A sample's target as the user reads it: the index (A-B for a contrast), with a pixel/region/mean spec named. */
function targetText(spec: string, t: { index: number; minus?: number }): string {
  if (t.minus !== undefined) return `${t.index}-${t.minus}`;
  return /^(pixel|region):|^(mean|sum)$/.test(spec) ? `${spec} (first output ${t.index})` : String(t.index);
}

export function explanationJson(e: SessionExplanation, extra: Record<string, unknown> = {}, input?: ResolvedInput): Record<string, unknown> {
  const k = e.output.shape[1];
  const target = typeof extra.target === 'string' ? extra.target : '';
  return {
    ...extra,
    composite: e.composite,
    engine: e.engine,
    init: e.init,
    layout: e.layout,
    shape: e.relevance.shape,
    strippedOutput: e.canonical?.strippedOutput ?? null,
    mergedBatchNorms: e.canonical?.mergedBatchNorms ?? [],
    samples: e.targets.map((t, s) => ({
      ...sampleInfo(input, e.indices[s] ?? s),
      target: t.minus !== undefined ? `${t.index}-${t.minus}` : t.index,
      ...(/^(pixel|region):|^(mean|sum)$/.test(target) ? { targetSpec: target } : {}),
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

/** `write` receives the output (stdout by default; tests pass their own). */
export async function run(argv: string[], write: (s: string) => void = (s) => void process.stdout.write(s)): Promise<number> {
  const args = parseArgs(argv, ['json', 'maps', 'no-checks']);
  const [modelArg, ...extra] = args.positional;
  if (extra.length || (!modelArg && !args.flags.has('config'))) throw new LensError('USAGE', USAGE);
  checkFlags(args, [...INPUT_FLAG_NAMES, ...COMPOSITE_FLAG_NAMES, ...DATE_FLAG_NAMES, 'out', 'json', 'max-pool', 'backend', 'batch-size', 'layout', 'shard', 'maps', 'no-checks']);
  // --shard I/N: this machine's block of the data, written as a shard folder for `lrp-lens merge` (merge.ts).
  const shardFlag = flagString(args, 'shard');
  const shard = shardFlag !== undefined ? parseShard(shardFlag) : undefined;
  if (!shard && (args.flags.has('maps') || args.flags.has('no-checks'))) throw new LensError('USAGE', '--maps and --no-checks go with --shard I/N');
  const out = shard ? await outputFolder(requireFlag(args, 'out'), '--out') : await outputFile(requireFlag(args, 'out'), '--out');
  const backend = flagString(args, 'backend') ?? 'onnxruntime';
  if (!isBackendName(backend)) throw new LensError('USAGE', `--backend must be one of ${BACKEND_NAMES.join(', ')}`);
  const maxPool = flagString(args, 'max-pool');
  if (maxPool !== undefined && maxPool !== 'winner' && maxPool !== 'avg') throw new LensError('USAGE', `--max-pool must be winner or avg`);
  const batch = flagInt(args, 'batch-size', 1);
  const layout = flagString(args, 'layout') ?? 'grid';
  if (layout !== 'grid' && layout !== 'model') throw new LensError('USAGE', `--layout must be grid or model, got '${layout}'`);
  const request = await compositeFlags(args); // usage errors before any data file is read
  const dates = dateFlags(args);
  if (shard && hasDates(dates)) throw new LensError('USAGE', '--shard I/N splits every sample; pick dates without it');

  const model = await modelFor(args, modelArg);
  const session = await openSession({ model, data: await dataSourceOf(args), request, maxPool });
  const { graph, choice, bounds } = session;
  const input = session.data!;
  const x = input.x;
  const used = await useEngine(backend);
  if (shard) {
    const { writeShardRun } = await import('./merge.js');
    return writeShardRun(session, shard, out, { chunk: batch, maps: args.flags.has('maps'), noChecks: args.flags.has('no-checks'), layout, json: args.flags.get('json') === true, backend: used }, write);
  }
  // Every sample of the input (no cap), or those of --dates/--time, in passes of --batch-size.
  const e = await explain(session, { ...dates, defaultMax: Infinity, chunk: batch });
  // A flatten "valid" input (an MLP on the ocean cells) is written on its grid, NaN where no input
  // value lies (land), so the file reads as a map; --layout model keeps the model's feature vector.
  const sc = layout === 'grid' ? input.scatter : undefined;
  const n = e.relevance.shape[0];
  const onGrid = featuresOnGrid({ scatter: sc }, e.relevance.data, n, NaN);
  const written = { data: onGrid.data, shape: onGrid.perShape ? [n, ...onGrid.perShape] : e.relevance.shape };
  const asNetcdf = /\.nc$/i.test(out);
  if (asNetcdf) {
    if (layout === 'model') throw new LensError('USAGE', '--layout model writes .npy; a .nc file is on the data\'s grid');
    await writeFile(out, sessionRelevanceNetcdf(session, e, { history: `lrp-lens explain ${argv.join(' ')}` }));
  } else await writeFile(out, writeNpy(written.data, written.shape));
  const low = bounds?.low;
  const high = bounds?.high;
  if (args.flags.get('json') === true) {
    const head: Record<string, unknown> = { model: graph.file, backend: used, out, outShape: written.shape, input: inputJson(input), target: choice.target };
    if (sc) head.outGrid = { dims: sc.gridDims, cells: sc.indices.length, fill: 'NaN' };
    if (bounds) head.bounds = { low, high, from: bounds.from };
    write(JSON.stringify(explanationJson(e, head, input), null, 2) + '\n');
  } else {
    const lines = [asNetcdf ? `relevance and input as CF NetCDF on the data's grid -> ${out}` : `relevance (${written.shape.join(', ')}, ${sc ? `on the grid [${sc.gridDims.join(', ')}], NaN off the model's ${sc.indices.length} input cells` : e.layout}) -> ${out}`, `composite ${e.composite}, init ${e.init}, backend ${used}, engine ${e.engine.name}${e.engine.fallback ? ` (ONNX Runtime not used: ${e.engine.fallback})` : ''}`];
    if (input.from !== 'npy') lines.push(`input from ${dataFile(input)}${input.entry ? ` (project entry ${input.entry.name})` : ''}: (${x.shape.join(', ')})${input.dims ? ` [${input.dims.join(', ')}]` : ''}`);
    if (bounds?.from === 'data') lines.push(`box bounds from the data's range: low ${low}, high ${high}`);
    if (e.canonical?.strippedOutput) lines.push(`explains the value before the final ${e.canonical.strippedOutput.activation} (layer ${e.canonical.strippedOutput.explains})`);
    e.targets.forEach((t, s) => {
      const info = sampleInfo(input, s);
      const tag = [info.date, info.labelName ?? info.label].filter((v) => v !== undefined).join(', ');
      lines.push(`sample ${s}${tag ? ` (${tag})` : ''}: target ${targetText(choice.target, t)} (value ${t.value.toPrecision(6)}), relevance sum ${e.relevanceSum[s].toPrecision(6)}`);
    });
    write(lines.join('\n') + '\n');
  }
  return 0;
}
