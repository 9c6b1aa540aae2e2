/**
 * `lrp-lens check [PATH...] [--data FILE [--var NAME] [--select ...] [--fill V] | --config lrp-lens.json
 * [--model NAME]] [--composite NAME] [--rules FILE|SPEC] [--format text|json|sarif]`: the artifact catalogue over model files
 * and folders. With data (resolveInput, input.ts) the relevance-map checks run too; with --config each
 * model runs on its own entry's data, mask (LRP209) and explain composite, and without PATH every
 * entry's model files are checked. Exit 0 with no error-severity finding, 1 with one, 2 on a
 * usage error (thrown as LensError('USAGE') for the dispatcher).
 */
import { stat, readFile } from 'node:fs/promises';
import { join, resolve, extname, basename, relative } from 'node:path';
import { checkComposite, parseArgs, flagString, type ParsedArgs } from './args.js';
import { dataRange, resolveInput, type ResolvedInput } from './input.js';
import { checkFlags, dataFile, entryModelFiles, INPUT_FLAG_NAMES } from './project-model.js';
import { findEntry, formatPath, rangeOf, readProject, type ModelEntry } from '../core/data/project.js';
import { geometryTwin, gridIfAny, onDataGrid } from '../core/report/grid-checks.js';
import { useBackend } from '../core/compute/backend.js';
import { LensError, toLensError } from '../core/errors.js';
import { loadModel } from '../core/model/load.js';
import { loadFailureFinding, runMapChecks, runStaticChecks } from '../core/artifacts/catalogue.js';
import { summarize } from '../core/artifacts/summary.js';
import type { Finding } from '../core/artifacts/finding.js';
import type { MapContext } from '../core/artifacts/map-context.js';
import type { ModelGraph } from '../core/model/graph.js';
import { formatJson, formatSarif, formatText, type CheckResult } from './check-format.js';
import { fileKind } from '../core/data/regular-file.js';
import { readRuleMap } from './rule-map.js';
import type { RuleMapEntry } from '../core/lrp/composites.js';
import { walkFiles } from '../core/walk.js';
import { openRegular, regularSize } from '../core/data/regular-file.js';

const MODEL_EXT = new Set(['.h5', '.hdf5', '.keras', '.onnx']);
const SKIP_DIRS = new Set(['node_modules', '.git', 'out']);
/** Guard against pointing the command at a huge tree by mistake. */
const MAX_FILES = 2000;

/** A .json file is a model when its head names a Keras/TF.js topology (data and config JSON are skipped). */
async function isModelJson(path: string): Promise<boolean> {
  if (basename(path) === 'model.json') return true;
  const { fh } = await openRegular(path);
  try {
    const buf = new Uint8Array(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = new TextDecoder().decode(buf.subarray(0, bytesRead));
    return /"(modelTopology|class_name)"\s*:/.test(head) && !/"weightsManifest"\s*:\s*\[\s*\]/.test(head);
  } finally {
    await fh.close();
  }
}

/** Model files under `path` (the path itself when it is a file), sorted; the walk's limits are walk.ts's. */
export async function findModelFiles(path: string): Promise<string[]> {
  const abs = resolve(path);
  let st;
  try {
    st = await stat(abs);
  } catch {
    throw new LensError('USAGE', `no such file or folder: ${path}`, { file: abs });
  }
  if (st.isFile()) return [abs];
  if (!st.isDirectory()) throw new LensError('BAD_INPUT', `${path} is ${fileKind(st)}: give model files or folders`, { file: abs });
  const files = await walkFiles(abs, async (p, name) => {
    const ext = extname(name).toLowerCase();
    return MODEL_EXT.has(ext) || (ext === '.json' && (await isModelJson(p).catch(() => false)));
  }, { skipDir: (name) => name.startsWith('.') || SKIP_DIRS.has(name), skipFile: (name) => name.startsWith('.') });
  if (files.length > MAX_FILES) throw new LensError('BUDGET_EXCEEDED', `more than ${MAX_FILES} model files under ${path}: check a smaller folder`, { file: abs });
  return files;
}

export interface CheckOptions {
  /** A data file for the relevance-map checks (any format resolveInput reads), with --var/--select/--fill. */
  data?: string;
  var?: string;
  select?: string;
  fill?: string;
  /** lrp-lens.json: each model on its entry's data (mask, coordinates, wrap and explain defaults included). */
  config?: string;
  /** With config: only this entry (by name or model path). */
  model?: string;
  composite?: string;
  /** --rules: the user's rule map on top of the composite, for the static (LRP112) and the map checks. */
  ruleMap?: RuleMapEntry[];
}

/** Where the map checks' data came from, per model (JSON `inputs`, one text line each). */
export interface CheckInput {
  file: string;
  entry?: string;
  data: string;
  shape: number[];
  dims?: string[];
  /** Samples the checks used (collectFromArray takes at most 32). */
  samples: number;
  dates?: [string, string];
  lat?: { dim: string; first: number; last: number; count: number };
  lon?: { dim: string; first: number; last: number; count: number };
  wrapLon?: number;
  /** Share of grid cells masked or missing (LRP209 judges relevance there). */
  maskedShare?: number;
  composite: string;
  bounds?: [number, number];
}

export interface CheckRunResult extends CheckResult {
  inputs: CheckInput[];
}

type Collect = typeof import('../core/artifacts/collect.js').collectFromArray;

async function loadCollector(): Promise<Collect> {
  try {
    const mod = await import('../core/artifacts/collect.js');
    return mod.collectFromArray;
  } catch (e) {
    throw new LensError('LRP_UNSUPPORTED', `relevance-map checks are not available in this build: ${(e as Error).message}`);
  }
}

/** MapContext's mask (1 = masked) over the model input's cells, channels-last, from the data's validity mask. */
export function mapMask(r: ResolvedInput, channelsFirst: boolean): Uint8Array | undefined {
  if (!r.mask) return undefined;
  const n = r.x.shape[0];
  const per = r.x.data.length / Math.max(n, 1);
  let valid = r.mask.data;
  // A --data field's mask covers the samples too: a cell is masked where any sample misses it.
  if (r.from === 'data' && r.dims && r.dims[0] !== 'batch' && valid.length === n * per) {
    const folded = new Uint8Array(per).fill(1);
    for (let s = 0; s < n; s++) for (let i = 0; i < per; i++) if (!valid[s * per + i]) folded[i] = 0;
    valid = folded;
  }
  if (valid.length === 0 || per % valid.length !== 0) return undefined;
  const c = per / valid.length;
  let out = Uint8Array.from(valid, (v) => (v ? 0 : 1));
  if (channelsFirst && c === 1 && valid.length === per && r.x.shape.length > 2 && r.x.shape[1] > 1) {
    // Channels-first data with its channels in the mask: to channels-last like the maps.
    const ch = r.x.shape[1];
    const cells = per / ch;
    const t = new Uint8Array(per);
    for (let k = 0; k < ch; k++) for (let i = 0; i < cells; i++) t[i * ch + k] = out[k * cells + i];
    out = t;
  }
  return out.some((v) => v) ? out : undefined;
}

function extent(r: ResolvedInput, axis: 'lat' | 'lon'): CheckInput['lat'] {
  const c = r.coords?.[axis];
  return c && c.values.length ? { dim: c.dim, first: c.values[0], last: c.values[c.values.length - 1], count: c.values.length } : undefined;
}

/** The flags resolveInput reads, for one model. */
function inputArgs(opts: CheckOptions, entryName?: string): ParsedArgs {
  const flags = new Map<string, string | true>();
  if (opts.config !== undefined) {
    flags.set('config', opts.config);
    if (entryName !== undefined) flags.set('model', entryName);
  } else if (opts.data !== undefined) {
    flags.set('data', opts.data);
    for (const k of ['var', 'select', 'fill'] as const) if (opts[k] !== undefined) flags.set(k, opts[k]!);
  }
  return { positional: [], flags };
}

/** Model files and their project entries: the paths given, or (with --config and no paths) every entry's files. */
async function planModels(paths: string[], opts: CheckOptions, findings: Finding[]): Promise<{ file: string; entry?: ModelEntry }[]> {
  const out: { file: string; entry?: ModelEntry }[] = [];
  const add = (file: string, entry?: ModelEntry): void => {
    if (!out.some((o) => o.file === file)) out.push({ file, entry });
  };
  if (opts.config !== undefined) await regularSize(opts.config);
  const project = opts.config !== undefined ? await readProject(opts.config) : undefined;
  const only = project && opts.model !== undefined ? findEntry(project, opts.model) : undefined;
  if (paths.length === 0 && project) {
    for (const e of only ? [only] : project.models) {
      const files = await entryModelFiles(e);
      if (files.length === 0) {
        const path = ['models', e.index, 'model'];
        findings.push({
          ...loadFailureFinding(new LensError('FILE_NOT_FOUND', `${formatPath(path)}: no model file matches '${e.model}'`, { file: project.file })),
          severity: 'warning',
          location: { file: project.file, range: rangeOf(project.locs, path) },
        });
      }
      for (const f of files) add(f, e);
    }
    return out;
  }
  for (const p of paths) {
    for (const f of await findModelFiles(p)) {
      let entry = only;
      if (project && !entry) {
        try {
          entry = findEntry(project, f);
        } catch {
          entry = undefined; // a model the project does not describe: static checks only
        }
      }
      add(f, entry);
    }
  }
  return out;
}

export async function checkPaths(paths: string[], opts: CheckOptions = {}): Promise<CheckRunResult> {
  const findings: Finding[] = [];
  const models = await planModels(paths, opts, findings);
  const summaries: CheckResult['summaries'] = [];
  const inputs: CheckInput[] = [];
  const withData = opts.data !== undefined || opts.config !== undefined;
  const collect = withData ? await loadCollector() : undefined;
  let anyMaps = false;
  for (const { file, entry } of models) {
    let graph: ModelGraph;
    try {
      graph = await loadModel(file);
    } catch (e) {
      findings.push(loadFailureFinding(toLensError(e, file), file));
      continue;
    }
    const composite = opts.composite ?? entry?.explain?.composite ?? 'epsilon';
    const ruleMap = opts.ruleMap;
    const own = runStaticChecks(graph, { composite, ruleMap });
    let ctx: MapContext | undefined;
    if (collect && (opts.config === undefined || entry)) {
      try {
        const r = await resolveInput(inputArgs(opts, entry?.name), graph.inputs[0].fileShape);
        const layout = graph.inputs[0].fileLayout;
        const mask = mapMask(r, /^NC/.test(layout));
        // epsilon-gamma-box needs bounds: the data's own range (as `explain` does for data files).
        const bounds = composite === 'epsilon-gamma-box' ? dataRange(r.x.data) : undefined;
        await useBackend();
        // Judged as the report judges: on the data's grid (an MLP's ocean cells scattered back, the other
        // cells masked; a wrapped longitude folded and periodic), against the geometry twin.
        const grid = gridIfAny(r);
        ctx = await collect(graph, r.x, composite, {
          mask,
          explainer: { ...(bounds ? { low: bounds[0], high: bounds[1] } : {}), ruleMap },
          twin: geometryTwin(graph, grid, r.x),
        });
        ctx = onDataGrid(ctx, r, grid);
        own.push(...runMapChecks(ctx));
        anyMaps = true;
        const info: CheckInput = { file, data: dataFile(r), shape: r.x.shape, dims: r.dims, samples: ctx.n, composite };
        if (entry) info.entry = entry.name;
        if (r.times?.length) info.dates = [r.times[0], r.times[Math.min(ctx.n, r.times.length) - 1]];
        const lat = extent(r, 'lat');
        const lon = extent(r, 'lon');
        if (lat) info.lat = lat;
        if (lon) info.lon = lon;
        if (r.wrapLon) info.wrapLon = r.wrapLon;
        const used = ctx.mask ?? mask;
        if (used) info.maskedShare = used.reduce((a, v) => a + v, 0) / used.length;
        if (bounds) info.bounds = bounds;
        inputs.push(info);
      } catch (e) {
        const err = toLensError(e, file);
        // Data that does not fit this model (shape) is reported per model, so the rest still runs.
        own.push({ ...loadFailureFinding(err, file), code: 'LRP100', severity: 'warning', message: `relevance-map checks skipped: ${err.code}: ${err.message}` });
      }
    }
    findings.push(...own);
    summaries.push(summarize(graph, own, ctx));
  }
  return { findings, summaries, staticOnly: !anyMaps, inputs };
}

function inputLines(r: CheckRunResult, cwd = process.cwd()): string {
  const rel = (f: string): string => relative(cwd, f) || f;
  const deg = (c: CheckInput['lat']): string => (c ? `${c.first}..${c.last} (${c.count})` : '');
  return r.inputs
    .map((i) => {
      const parts = [`${i.samples} sample(s) of (${i.shape.slice(1).join(', ')})`];
      if (i.dates) parts.push(`${i.dates[0]}..${i.dates[1]}`);
      if (i.lat) parts.push(`lat ${deg(i.lat)}`);
      if (i.lon) parts.push(`lon ${deg(i.lon)}${i.wrapLon ? ` incl. ${i.wrapLon} wrapped on each side` : ''}`);
      if (i.maskedShare !== undefined) parts.push(`${(100 * i.maskedShare).toFixed(1)} % of cells masked`);
      parts.push(`composite ${i.composite}`);
      return `${rel(i.file)}: maps on ${rel(i.data)}${i.entry ? ` (entry ${i.entry})` : ''}: ${parts.join(', ')}\n`;
    })
    .join('');
}

async function packageVersion(): Promise<string> {
  try {
    const { REPO } = await import('../testing/paths.js');
    return JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')).version as string;
  } catch {
    return '0.0.0';
  }
}

const USAGE = 'usage: lrp-lens check [PATH...] [--data FILE [--var NAME] [--select DIM=START:STOP,...] [--fill V] | --config lrp-lens.json [--model NAME]] [--composite NAME] [--rules FILE|SPEC] [--format text|json|sarif] [--json]';

/** `write` receives the output (stdout by default; tests pass their own). */
export async function run(argv: string[], write: (s: string) => void = (s) => void process.stdout.write(s)): Promise<number> {
  const args = parseArgs(argv, ['json', 'help']);
  if (args.flags.get('help')) {
    write(USAGE + '\n');
    return 0;
  }
  const format = args.flags.get('json') ? 'json' : (flagString(args, 'format') ?? 'text');
  if (!['text', 'json', 'sarif'].includes(format)) throw new LensError('USAGE', `--format must be text, json or sarif, got '${format}'`);
  // --input X.npy is explain/predict's; check takes its arrays as --data.
  checkFlags(args, ['json', 'help', 'format', 'composite', 'rules', ...INPUT_FLAG_NAMES.filter((k) => k !== 'input')]);
  const opts: CheckOptions = {};
  for (const k of ['data', 'var', 'select', 'fill', 'config', 'model', 'composite'] as const) opts[k] = flagString(args, k);
  if (opts.composite !== undefined) checkComposite(opts.composite, '--composite');
  opts.ruleMap = await readRuleMap(flagString(args, 'rules'));
  if (opts.data !== undefined && opts.config !== undefined) throw new LensError('USAGE', 'give --data or --config, not both');
  if (args.positional.length === 0 && opts.config === undefined) throw new LensError('USAGE', `check needs at least one model file or folder (or --config lrp-lens.json)\n${USAGE}`);
  // One data file for every model: a device or FIFO there stops the run, not each model's map checks.
  if (opts.data !== undefined) await regularSize(opts.data);
  const result = await checkPaths(args.positional, opts);
  const text = format === 'json' ? formatJson(result) : format === 'sarif' ? formatSarif(result, await packageVersion()) : inputLines(result) + formatText(result);
  write(text);
  return result.findings.some((f) => f.severity === 'error') ? 1 : 0;
}
