/**
 * `lrp-lens check [PATH...] [--data FILE [--var NAME] [--select ...] [--fill V] | --config lrp-lens.json
 * [--model NAME]] [composite flags] [--format text|json|sarif]`: the artifact catalogue over model files
 * and folders. With data the relevance-map checks run too, through the session (core/session/): with
 * --config each model runs on its own entry's data, mask (LRP209) and explain composite, and without
 * PATH every entry's model files are checked. The composite flags are explain's (composite-flags.ts);
 * the map checks judge the predicted class, so --target and --init take their defaults only. Exit 0 with no error-severity finding, 1 with one, 2 on a
 * usage error (thrown as LensError('USAGE') for the dispatcher).
 */
import { stat } from 'node:fs/promises';
import { resolve, extname, basename, relative } from 'node:path';
import { packageVersion } from '../core/package-root.js';
import { parseArgs, flagString } from './args.js';
import { checkFlags, entryModelFiles, INPUT_FLAG_NAMES } from './project-model.js';
import { findEntry, formatPath, rangeOf, readProject, type LensProject, type ModelEntry } from '../core/data/project.js';
import { useBackend } from '../core/backend.js';
import { LensError, toLensError } from '../core/errors.js';
import { loadModel } from '../core/model/load.js';
import { loadFailureFinding } from '../core/artifacts/catalogue.js';
import { summarize } from '../core/artifacts/summary.js';
import type { Finding } from '../core/artifacts/finding.js';
import type { MapContext } from '../core/artifacts/map-context.js';
import type { ModelGraph } from '../core/model/graph.js';
import { formatJson, formatSarif, formatText, type CheckResult } from './check-format.js';
import { fileKind } from '../core/data/regular-file.js';
import type { RuleMapEntry } from '../core/lrp/composites.js';
import { walkFiles } from '../core/walk.js';
import { openRegular, regularSize } from '../core/data/regular-file.js';
import type { ChoiceLayer } from '../core/session/composite-choice.js';
import { DATE_FLAG_NAMES, DATE_FLAGS_USAGE, dateFlags, type DateSelection } from './date-flags.js';
import { dataFile, type DataSource, type SessionData } from '../core/session/data-source.js';
import { openSession } from '../core/session/session.js';
import { checkMaps, staticFindings } from '../core/session/check-maps.js';
import { COMPOSITE_FLAG_NAMES, COMPOSITE_FLAGS_USAGE, compositeFlags } from './composite-flags.js';

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
  /** --dates/--time: the map checks on these samples of the data's time axis (default: the first ones). */
  dates?: DateSelection;
  /** lrp-lens.json: each model on its entry's data (mask, coordinates, wrap and explain defaults included). */
  config?: string;
  /** With config: only this entry (by name or model path). */
  model?: string;
  composite?: string;
  /** --rules: the user's rule map on top of the composite, for the static (LRP112) and the map checks. */
  ruleMap?: RuleMapEntry[];
  /** The other composite flags (--epsilon, --gamma, --low, --high); composite and ruleMap above win. */
  request?: ChoiceLayer;
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
  bounds?: [number | number[], number | number[]];
  /** Where the bounds came from: the flags, or the data's range. */
  boundsFrom?: 'given' | 'data';
}

export interface CheckRunResult extends CheckResult {
  inputs: CheckInput[];
}

function extent(r: SessionData, axis: 'lat' | 'lon'): CheckInput['lat'] {
  const c = r.coords?.[axis];
  return c && c.values.length ? { dim: c.dim, first: c.values[0], last: c.values[c.values.length - 1], count: c.values.length } : undefined;
}

/** The data source for one model: the --data file, or its --config entry. */
function dataSource(opts: CheckOptions, project: LensProject | undefined, entry: ModelEntry | undefined): DataSource | undefined {
  if (opts.config !== undefined) return project && entry ? { kind: 'project', project, entry } : undefined;
  if (opts.data === undefined) return undefined;
  const fill = opts.fill === undefined ? undefined : Number(opts.fill);
  if (fill !== undefined && !Number.isFinite(fill)) throw new LensError('USAGE', `--fill must be a number, got '${opts.fill}'`);
  return { kind: 'field', file: opts.data, variable: opts.var, select: opts.select, fill };
}

/** Model files and their project entries: the paths given, or (with --config and no paths) every entry's files. */
async function planModels(paths: string[], opts: CheckOptions, findings: Finding[]): Promise<{ project?: LensProject; models: { file: string; entry?: ModelEntry }[] }> {
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
    return { project, models: out };
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
  return { project, models: out };
}

export async function checkPaths(paths: string[], opts: CheckOptions = {}): Promise<CheckRunResult> {
  const findings: Finding[] = [];
  const { project, models } = await planModels(paths, opts, findings);
  const summaries: CheckResult['summaries'] = [];
  const inputs: CheckInput[] = [];
  const request: ChoiceLayer = { ...opts.request };
  if (opts.composite !== undefined) request.composite = opts.composite;
  if (opts.ruleMap?.length) request.rules = opts.ruleMap;
  let anyMaps = false;
  for (const { file, entry } of models) {
    let graph: ModelGraph;
    try {
      graph = await loadModel(file);
    } catch (e) {
      findings.push(loadFailureFinding(toLensError(e, file), file));
      continue;
    }
    // Static checks under the composite the session chooses (the entry's explain composite, unless given).
    const own = staticFindings(await openSession({ model: graph, entry, request }));
    let ctx: MapContext | undefined;
    const source = dataSource(opts, project, entry);
    if (source) {
      try {
        const session = await openSession({ model: graph, data: source, request });
        const r = session.data!;
        await useBackend();
        const checked = await checkMaps(session, { ...opts.dates });
        ctx = checked.ctx;
        own.push(...checked.mapFindings);
        anyMaps = true;
        const info: CheckInput = { file, data: dataFile(r), shape: r.x.shape, dims: r.dims, samples: ctx.n, composite: session.choice.composite };
        if (entry) info.entry = entry.name;
        if (r.times?.length) info.dates = [r.times[checked.indices[0]] ?? r.times[0], r.times[checked.indices[checked.indices.length - 1]] ?? r.times[r.times.length - 1]];
        const lat = extent(r, 'lat');
        const lon = extent(r, 'lon');
        if (lat) info.lat = lat;
        if (lon) info.lon = lon;
        if (r.wrapLon) info.wrapLon = r.wrapLon;
        const used = ctx.mask ?? checked.mask;
        if (used) info.maskedShare = used.reduce((a, v) => a + v, 0) / used.length;
        if (session.bounds) {
          info.bounds = [session.bounds.low, session.bounds.high];
          info.boundsFrom = session.bounds.from;
        }
        inputs.push(info);
      } catch (e) {
        const err = toLensError(e, file);
        if (err.code === 'USAGE') throw err; // a flag the checks cannot honour stops the run (exit 2)
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

const USAGE = `usage: lrp-lens check [PATH...] [--data FILE [--var NAME] [--select DIM=START:STOP,...] [--fill V] | --config lrp-lens.json [--model NAME]] ${DATE_FLAGS_USAGE} ${COMPOSITE_FLAGS_USAGE} [--format text|json|sarif] [--json]`;

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
  checkFlags(args, ['json', 'help', 'format', ...COMPOSITE_FLAG_NAMES, ...DATE_FLAG_NAMES, ...INPUT_FLAG_NAMES.filter((k) => k !== 'input')]);
  const opts: CheckOptions = {};
  for (const k of ['data', 'var', 'select', 'fill', 'config', 'model'] as const) opts[k] = flagString(args, k);
  opts.request = await compositeFlags(args);
  opts.dates = dateFlags(args);
  if (opts.data !== undefined && opts.config !== undefined) throw new LensError('USAGE', 'give --data or --config, not both');
  if (args.positional.length === 0 && opts.config === undefined) throw new LensError('USAGE', `check needs at least one model file or folder (or --config lrp-lens.json)\n${USAGE}`);
  // One data file for every model: a device or FIFO there stops the run, not each model's map checks.
  if (opts.data !== undefined) await regularSize(opts.data);
  const result = await checkPaths(args.positional, opts);
  const text = format === 'json' ? formatJson(result) : format === 'sarif' ? formatSarif(result, packageVersion()) : inputLines(result) + formatText(result);
  write(text);
  return result.findings.some((f) => f.severity === 'error') ? 1 : 0;
}
