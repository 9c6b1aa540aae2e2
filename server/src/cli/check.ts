/**
 * `lrp-lens check PATH... [--data X.npy] [--composite NAME] [--format text|json|sarif]`: the artifact
 * catalogue over model files and folders. Exit 0 with no error-severity finding, 1 with one, 2 on a
 * usage error (thrown as LensError('USAGE') for the dispatcher).
 */
import { readdir, stat, readFile, open } from 'node:fs/promises';
import { join, resolve, extname, basename } from 'node:path';
import { parseArgs, flagString } from './args.js';
import { LensError, toLensError } from '../core/errors.js';
import { loadModel } from '../core/model/load.js';
import { loadFailureFinding, runMapChecks, runStaticChecks } from '../core/artifacts/catalogue.js';
import { summarize } from '../core/artifacts/summary.js';
import type { Finding } from '../core/artifacts/finding.js';
import type { MapContext } from '../core/artifacts/map-context.js';
import type { ModelGraph } from '../core/model/graph.js';
import { formatJson, formatSarif, formatText, type CheckResult } from './check-format.js';

const MODEL_EXT = new Set(['.h5', '.hdf5', '.keras', '.onnx']);
const SKIP_DIRS = new Set(['node_modules', '.git', 'out']);
/** Guard against pointing the command at a huge tree by mistake. */
const MAX_FILES = 2000;

/** A .json file is a model when its head names a Keras/TF.js topology (data and config JSON are skipped). */
async function isModelJson(path: string): Promise<boolean> {
  if (basename(path) === 'model.json') return true;
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = new TextDecoder().decode(buf.subarray(0, bytesRead));
    return /"(modelTopology|class_name)"\s*:/.test(head) && !/"weightsManifest"\s*:\s*\[\s*\]/.test(head);
  } finally {
    await fh.close();
  }
}

/** Model files under `path` (the path itself when it is a file), sorted. */
export async function findModelFiles(path: string): Promise<string[]> {
  const abs = resolve(path);
  let st;
  try {
    st = await stat(abs);
  } catch {
    throw new LensError('USAGE', `no such file or folder: ${path}`, { file: abs });
  }
  if (st.isFile()) return [abs];
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (out.length >= MAX_FILES) return;
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) await walk(p);
      } else if (e.isFile()) {
        const ext = extname(e.name).toLowerCase();
        if (MODEL_EXT.has(ext) || (ext === '.json' && (await isModelJson(p).catch(() => false)))) out.push(p);
      }
    }
  };
  await walk(abs);
  return out;
}

export interface CheckOptions {
  data?: string;
  composite?: string;
}

/** Build the relevance-map context for one model on the data (the LRP engine does the work). */
type Collector = (graph: ModelGraph, dataPath: string, composite: string) => Promise<MapContext>;

async function loadCollector(): Promise<Collector> {
  try {
    const mod = (await import('../core/artifacts/collect.js')) as { collectMapContext: Collector };
    return mod.collectMapContext;
  } catch (e) {
    throw new LensError('LRP_UNSUPPORTED', `relevance-map checks are not available in this build: ${(e as Error).message}`);
  }
}

export async function checkPaths(paths: string[], opts: CheckOptions = {}): Promise<CheckResult> {
  const files: string[] = [];
  for (const p of paths) for (const f of await findModelFiles(p)) if (!files.includes(f)) files.push(f);
  const findings: Finding[] = [];
  const summaries: CheckResult['summaries'] = [];
  const collector = opts.data ? await loadCollector() : undefined;
  let anyMaps = false;
  for (const file of files) {
    let graph: ModelGraph;
    try {
      graph = await loadModel(file);
    } catch (e) {
      findings.push(loadFailureFinding(toLensError(e, file), file));
      continue;
    }
    const own = runStaticChecks(graph, { composite: opts.composite });
    let ctx: MapContext | undefined;
    if (collector && opts.data) {
      try {
        ctx = await collector(graph, resolve(opts.data), opts.composite ?? 'epsilon');
        own.push(...runMapChecks(ctx));
        anyMaps = true;
      } catch (e) {
        const err = toLensError(e, file);
        // Data that does not fit this model (shape) is reported per model, so the rest still runs.
        own.push({ ...loadFailureFinding(err, file), code: 'LRP100', severity: 'warning', message: `relevance-map checks skipped: ${err.code}: ${err.message}` });
      }
    }
    findings.push(...own);
    summaries.push(summarize(graph, own, ctx));
  }
  return { findings, summaries, staticOnly: !anyMaps };
}

async function packageVersion(): Promise<string> {
  try {
    const { REPO } = await import('../testing/paths.js');
    return JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')).version as string;
  } catch {
    return '0.0.0';
  }
}

/** `write` receives the output (stdout by default; tests pass their own). */
export async function run(argv: string[], write: (s: string) => void = (s) => void process.stdout.write(s)): Promise<number> {
  const args = parseArgs(argv, ['json', 'help']);
  if (args.flags.get('help')) {
    write('usage: lrp-lens check PATH... [--data X.npy] [--composite NAME] [--format text|json|sarif]\n');
    return 0;
  }
  const format = args.flags.get('json') ? 'json' : (flagString(args, 'format') ?? 'text');
  if (!['text', 'json', 'sarif'].includes(format)) throw new LensError('USAGE', `--format must be text, json or sarif, got '${format}'`);
  for (const k of args.flags.keys()) if (!['json', 'help', 'format', 'data', 'composite'].includes(k)) throw new LensError('USAGE', `unknown option --${k}`);
  if (args.positional.length === 0) throw new LensError('USAGE', 'check needs at least one model file or folder');
  const result = await checkPaths(args.positional, { data: flagString(args, 'data'), composite: flagString(args, 'composite') });
  const text = format === 'json' ? formatJson(result) : format === 'sarif' ? formatSarif(result, await packageVersion()) : formatText(result);
  write(text);
  return result.findings.some((f) => f.severity === 'error') ? 1 : 0;
}
