/**
 * Where the language server meets the core library for analysis (runs inside the worker threads):
 * loadModel (model/load) with the worker's graph cache, the static-check catalogue (artifacts), the
 * summaries sent to the client, and the project file's validation (data/project). The explain and
 * data-check jobs are explain-job.ts and check-data-job.ts, over the session layer (core/session/).
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { LensError } from '../core/errors.js';
import type { LayerNode, ModelGraph } from '../core/model/graph.js';
import { paramCount } from '../core/model/graph.js';
import type { Finding } from '../core/artifacts/finding.js';
import { loadModel } from '../core/model/load.js';
import { runStaticChecks } from '../core/artifacts/catalogue.js';
import type { FindingSummary, LayerSummary, LensSettings, ModelSummary, TensorInfo } from '../protocol.js';
import type { JobContext } from './jobs.js';
import { chooseComposite, layerFromParams, projectLayer } from '../core/session/composite-choice.js';
import { findEntry, readProject, type ModelEntry } from '../core/data/project.js';

/** Fixed per worker (workerData). */
export interface WorkerConfig {
  backend?: LensSettings['backend'];
  /** Folder holding the tfjs-backend-wasm .wasm files (set in the bundled extension). */
  wasmDir?: string;
}

export interface AnalyzePayload {
  file: string;
  settings: Pick<LensSettings, 'composite' | 'disabledChecks'>;
  /** lrp-lens.json of the workspace: the model's entry's explain composite wins over the setting. */
  projectFile?: string;
}

/**
 * The composite the static checks judge under: the session layer's precedence (lrp-lens.json entry >
 * setting > default), so the diagnostics speak of the composite `lrp-lens check --config` uses.
 */
async function staticComposite(p: AnalyzePayload): Promise<string> {
  const settings = layerFromParams(p.settings.composite, undefined, 'lrpLens.composite');
  if (!p.projectFile) return chooseComposite({ settings }).composite;
  let entry: ModelEntry | undefined;
  try {
    entry = findEntry(await readProject(p.projectFile), p.file);
  } catch {
    entry = undefined; // no entry for this model, or a project file with errors (reported on that file)
  }
  try {
    return chooseComposite({ project: projectLayer(entry), settings }).composite;
  } catch {
    return chooseComposite({ settings }).composite; // a bad composite in the entry is the project check's to report
  }
}

/** The worker keeps the last graphs it loaded, so an explain after an analysis does not reload. */
const graphs = new Map<string, { mtimeKey: string; graph: ModelGraph }>();

export async function getGraph(file: string): Promise<ModelGraph> {
  const st = await stat(file).catch(() => {
    throw new LensError('FILE_NOT_FOUND', `no such file: ${file}`, { file });
  });
  // A SavedModel folder changes through its files, not the folder's own mtime.
  const key = st.isDirectory() ? await folderKey(file) : `${st.size}:${st.mtimeMs}`;
  const hit = graphs.get(file);
  if (hit && hit.mtimeKey === key) return hit.graph;
  const graph = await loadModel(file);
  graphs.set(file, { mtimeKey: key, graph });
  if (graphs.size > 8) graphs.delete(graphs.keys().next().value!);
  return graph;
}

/** Sizes and mtimes of a SavedModel folder's files (its .pb files and variables/). */
async function folderKey(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const sub of ['', 'variables']) {
    const names = await readdir(join(dir, sub)).catch(() => [] as string[]);
    for (const n of names.sort()) {
      const st = await stat(join(dir, sub, n)).catch(() => undefined);
      if (st?.isFile()) parts.push(`${sub}/${n}:${st.size}:${st.mtimeMs}`);
    }
  }
  return parts.join('|');
}

export async function analyzeModel(p: AnalyzePayload, ctx: JobContext, _config: WorkerConfig): Promise<ModelSummary> {
  const started = Date.now();
  ctx.progress(0, 2, `loading ${basename(p.file)}`);
  let graph: ModelGraph;
  try {
    graph = await getGraph(p.file);
  } catch (e) {
    graphs.delete(p.file);
    throw e;
  }
  ctx.checkCancelled();
  ctx.progress(1, 2, 'static checks');
  const severity: Record<string, 'off'> = {};
  for (const code of p.settings.disabledChecks) severity[code] = 'off';
  const findings = runStaticChecks(graph, { composite: await staticComposite(p), severity });
  ctx.progress(2, 2);
  return summarize(graph, findings, Date.now() - started);
}

// The explain and data-check jobs live in explain-job.ts and check-data-job.ts (thin callers of the
// session layer, core/session/); their payload types are re-exported here for the server.
export type { ExplainJobPayload } from './explain-job.js';
export type { CheckDataJobPayload } from './check-data-job.js';

export function summarize(graph: ModelGraph, findings: Finding[], ms: number): ModelSummary {
  const layers: LayerSummary[] = graph.nodes.map((n, index) => layerSummary(n, index));
  return {
    uri: '',
    file: graph.file,
    name: graph.name || basename(graph.file),
    state: 'ok',
    format: { ...graph.format },
    inputs: graph.inputs.map(tensorInfo),
    outputs: graph.outputs.map(tensorInfo),
    layers,
    totalParams: layers.reduce((a, l) => a + l.params, 0),
    findings: findings.map(findingSummary),
    analysisMs: ms,
  };
}

function tensorInfo(t: ModelGraph['inputs'][number]): TensorInfo {
  return { name: t.fileName || t.node, shape: [...t.fileShape], layout: t.fileLayout };
}

export function findingSummary(f: Finding): FindingSummary {
  const s: FindingSummary = { code: f.code, severity: f.severity, message: f.message, remedy: f.remedy, docs: f.docs, file: f.location.file };
  if (f.layer) s.layer = { ...f.layer };
  if (f.location.range) s.range = [f.location.range[0], f.location.range[1]];
  if (f.data) s.data = f.data;
  return s;
}

export function layerSummary(n: LayerNode, index: number): LayerSummary {
  const s: LayerSummary = {
    index,
    name: n.name,
    kind: n.kind,
    className: n.source.className || n.kind,
    inbound: [...n.inbound],
    outputShape: [...n.outputShape],
    params: paramCount(n),
    activation: n.activation?.name ?? 'linear',
    detail: layerDetail(n),
  };
  if (n.source.jsonRange) s.jsonRange = [n.source.jsonRange[0], n.source.jsonRange[1]];
  return s;
}

/** One line of the parameters that matter for LRP artifacts (kernel, strides, padding, pool op). */
function layerDetail(n: LayerNode): string {
  const p = n.params as unknown as Record<string, unknown>;
  const parts: string[] = [];
  const dims = (v: unknown): string => (Array.isArray(v) ? v.join('x') : String(v));
  if ('op' in p) parts.push(String(p.op));
  if ('units' in p) parts.push(`units ${String(p.units)}`);
  if ('filters' in p) parts.push(`filters ${String(p.filters)}`);
  if ('kernelSize' in p) parts.push(`kernel ${dims(p.kernelSize)}`);
  if ('poolSize' in p) parts.push(`pool ${dims(p.poolSize)}`);
  if ('strides' in p && Array.isArray(p.strides) && p.strides.some((s) => s !== 1)) parts.push(`strides ${dims(p.strides)}`);
  if ('dilation' in p && Array.isArray(p.dilation) && p.dilation.some((s) => s !== 1)) parts.push(`dilation ${dims(p.dilation)}`);
  if ('padding' in p && p.padding && typeof p.padding === 'object') parts.push(`padding ${(p.padding as { mode: string }).mode}`);
  if ('pads' in p && Array.isArray(p.pads)) parts.push(`pads ${JSON.stringify(p.pads)}`);
  if ('size' in p) parts.push(`size ${dims(p.size)}`);
  if ('targetShape' in p) parts.push(`to ${dims(p.targetShape)}`);
  if ('originalClass' in p) parts.push(`${String(p.originalClass)} (identity at inference)`);
  if (n.kind === 'Activation') parts.push((p.activation as { name: string }).name);
  return parts.join(', ');
}

/** A problem in lrp-lens.json: where ([start, end) offsets of the key), what, how bad. */
export interface ProjectIssue {
  range: [number, number];
  message: string;
  code: string;
  severity: 'error' | 'warning';
}

/**
 * The project file's checks: structure, paths, variables and selections (from the data files' headers),
 * and the input shape against the model's (from the server's analysis, so no model is loaded here).
 * `checkData` false (an untrusted workspace): the structure only, nothing on disk looked at.
 */
export async function validateProjectFile(file: string, text: string, inputShapeOf?: (modelFile: string) => (number | null)[] | undefined, checkData = true): Promise<ProjectIssue[]> {
  if (!checkData) {
    // Untrusted workspace: the text's structure only; no path it names is looked at.
    const { parseProject } = await import('../core/data/project.js');
    return parseProject(text, file).issues.map((i) => ({ range: i.range, message: i.message, code: i.code, severity: i.severity }));
  }
  const { validateProject } = await import('../core/data/projectcheck.js');
  const { issues } = await validateProject(text, file, {
    modelInputShape: inputShapeOf ? (_entry, files) => files.map(inputShapeOf).find((s) => s !== undefined) : undefined,
  });
  return issues.map((i) => ({ range: i.range, message: i.message, code: i.code, severity: i.severity }));
}
