/**
 * `lrp-lens report`: every model of a project (lrp-lens.json) analysed and drawn, written as one
 * self-contained HTML page with its PNGs in the output folder. A model that fails is one section with
 * its error; the rest still run.
 */
import { existsSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf } from '../backend.js';
import { useEngine } from '../lrp-onnx/ort-providers.js';
import { readProject } from '../data/project.js';
import { LensError, toLensError } from '../errors.js';
import { analyzeEntry, type AnalyzeOptions, type ModelAnalysis } from './analyze.js';
import { modelFigures } from './figures.js';
import { codesOf, renderHtml, type ReportSection } from './html.js';
import { readMetrics } from './metrics.js';
import { parseYears } from './accuracy.js';
import { ReportFolder } from './out-dir.js';
import { sequenceFigure, sequenceOf } from './sequence-report.js';
import type { ChoiceLayer } from '../session/composite-choice.js';

export interface ReportOptions {
  out: string;
  /** lrp-lens.json (default: PATH itself when it is a file, else PATH/lrp-lens.json). */
  config?: string;
  /** Samples per class (default 32). */
  samples?: number;
  /** metrics.json of the training script (default: <project dir>/models/metrics.json when present). */
  metrics?: string;
  /** Called as each model starts and ends (the CLI prints it to stderr). */
  progress?: (msg: string) => void;
  /** The composite flags (--composite, --epsilon, ...): they win over each entry's explain composite. */
  request?: ChoiceLayer;
  /** --dates / --time: each model's class samples picked among these months. */
  period?: AnalyzeOptions['period'];
}

export interface SummaryRow {
  model: string;
  accuracy?: number;
  /** The majority-class baseline on the same test months. */
  baseline?: number;
  codes: string[];
  ninoShare?: number;
  artifactShare?: number;
  error?: string;
  seconds?: number;
  /** Recurrent models fed the field in sequence mode: the fitted fading-memory half-life in steps (Infinity: no decay). */
  halfLife?: number;
}

export interface ReportResult {
  index: string;
  outDir: string;
  rows: SummaryRow[];
  files: string[];
  bytes: number;
  seconds: number;
  analyses: ModelAnalysis[];
}

export function projectFileOf(path: string, config?: string): string {
  if (config) return resolve(config);
  const p = resolve(path);
  if (existsSync(p) && statSync(p).isDirectory()) return join(p, 'lrp-lens.json');
  return p;
}

/** The checkout holding docs/findings (walk up from this module), for relative links. */
function docsRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'docs', 'findings')) && existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

export async function writeReport(path: string, opts: ReportOptions): Promise<ReportResult> {
  const t0 = Date.now();
  const projectFile = projectFileOf(path, opts.config);
  if (!existsSync(projectFile)) throw new LensError('FILE_NOT_FOUND', `no lrp-lens.json at ${projectFile} (give a project folder or --config FILE)`, { file: projectFile });
  const project = await readProject(projectFile);
  const samples = opts.samples ?? 32;
  if (!Number.isInteger(samples) || samples < 1 || samples > 4096) throw new LensError('USAGE', `--samples must be an integer from 1 to 4096, got ${samples}`);
  const outDir = resolve(opts.out);
  // The previous run's files go (listed in the folder's manifest); the user's own files stay.
  const folder = await ReportFolder.open(outDir);
  const metrics = await readMetrics(opts.metrics ?? join(project.dir, 'models', 'metrics.json'));
  // LRP on ONNX Runtime, as the CLI and the language server explain (tfjs-wasm under it for what does not lower).
  await useEngine('onnxruntime');
  const backend = 'onnxruntime';

  const sections: ReportSection[] = [];
  const rows: SummaryRow[] = [];
  const files: string[] = [];
  const analyses: ModelAnalysis[] = [];
  for (const entry of project.models) {
    opts.progress?.(`${entry.name}: analysing`);
    const m = metrics.get(entry.name);
    const before = tf.memory().numTensors;
    try {
      const a = await analyzeEntry(project, entry, { samples, request: opts.request, period: opts.period, testYears: m?.testYears ? parseYears(m.testYears) : undefined });
      const figs = await modelFigures(a);
      const seq = sequenceOf(a);
      if (seq) figs.push(await sequenceFigure(a, seq));
      for (const f of figs) {
        await folder.write(f.name, f.png);
        files.push(f.name);
      }
      sections.push({ name: entry.name, analysis: a, figures: figs, metrics: m, sequence: seq });
      analyses.push(a);
      rows.push({ model: entry.name, accuracy: m?.testAccuracy, baseline: m?.majorityBaseline, codes: codesOf(a), ninoShare: a.ninoShare, artifactShare: a.summary.artifactShare, seconds: a.seconds, halfLife: seq?.fading.halfLife });
      opts.progress?.(`${entry.name}: done in ${a.seconds.toFixed(1)} s`);
    } catch (e) {
      const err = toLensError(e);
      sections.push({ name: entry.name, figures: [], metrics: m, error: { code: err.code, message: err.message } });
      rows.push({ model: entry.name, accuracy: m?.testAccuracy, baseline: m?.majorityBaseline, codes: [], error: `${err.code}: ${err.message}` });
      opts.progress?.(`${entry.name}: failed: ${err.code}: ${err.message}`);
    }
    // The engine and the checks release their tensors; a leak here would grow with every model.
    const leaked = tf.memory().numTensors - before;
    if (leaked > 0) opts.progress?.(`${entry.name}: ${leaked} tensor(s) not released`);
  }

  const seconds = (Date.now() - t0) / 1000;
  const html = renderHtml({
    title: 'LRP Lens report',
    projectFile: project.file,
    outDir,
    docsRoot: docsRoot(),
    sections,
    samplesPerClass: samples,
    backend,
    seconds,
    generated: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  });
  const index = await folder.write('index.html', html);
  let bytes = 0;
  for (const f of ['index.html', ...files]) bytes += (await stat(join(outDir, f))).size;
  return { index, outDir, rows, files, bytes, seconds, analyses };
}

/** Fading-memory half-life in steps ('-': not a sequence model). */
function halfLife(h: number | undefined): string {
  return h === undefined || Number.isNaN(h) ? '-' : Number.isFinite(h) ? `${h.toFixed(1)} st` : 'none';
}

/** The terminal summary: one row per model. */
export function formatSummary(rows: SummaryRow[]): string {
  const pct = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '-' : `${(100 * x).toFixed(1)}%`);
  const table = [
    ['model', 'held-out acc', 'majority', 'Nino-3.4 |R|', 'artifact |R|', 'half-life', 'findings'],
    ...rows.map((r) => [r.model, r.accuracy !== undefined ? r.accuracy.toFixed(3) : '-', r.baseline !== undefined ? r.baseline.toFixed(3) : '-', pct(r.ninoShare), pct(r.artifactShare), halfLife(r.halfLife), r.error ? `not analysed (${r.error})` : r.codes.join(' ') || '-']),
  ];
  const last = table[0].length - 1;
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => (c === last ? 0 : row[c].length))));
  return table.map((row) => row.map((v, c) => (c === last ? v : c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ')).join('\n') + '\n';
}
