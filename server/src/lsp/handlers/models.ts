/**
 * The workspace's models: lrpLens/listModels, and keeping the list current: the scan, one model's
 * analysis (static checks on a worker, cached by content and settings), a change's debounced
 * re-analysis, a deleted model forgotten.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import { toLensError } from '../../core/errors.js';
import { findEntry, readProject, type LensProject } from '../../core/data/project.js';
import type { ListModelsParams, ListModelsResult, ModelSummary } from '../../protocol.js';
import type { AnalyzePayload } from '../analyzer.js';
import { analysisKey } from '../cache-keys.js';
import { hashModelFile, type HashedFile } from '../content-hash.js';
import type { ServerState } from '../state.js';
import { publishModel, validateProjects } from './diagnostics.js';
import { sendStatus } from './status.js';

export async function listModels(state: ServerState, params: ListModelsParams): Promise<ListModelsResult> {
  const { filter } = params;
  const models = [...state.models.values()].map((m) => m.summary).filter((s) => !filter || s.file.includes(filter));
  // Which models have data in lrp-lens.json (the viewer offers "Add data" to the others), read at the time of asking.
  const projects = new Map<string, LensProject | undefined>();
  return { models: await Promise.all(models.map(async (m) => withDataEntry(m, await projectOf(state, m.file, projects)))) };
}

async function projectOf(state: ServerState, file: string, seen: Map<string, LensProject | undefined>): Promise<LensProject | undefined> {
  const pf = state.projectFileFor(file);
  if (!pf) return undefined;
  if (!seen.has(pf)) seen.set(pf, await readProject(pf).catch(() => undefined)); // an invalid file has no entries to offer
  return seen.get(pf);
}

function withDataEntry(m: ModelSummary, project: LensProject | undefined): ModelSummary {
  if (!project) return m;
  try {
    return { ...m, dataEntry: findEntry(project, m.file).name };
  } catch {
    return m; // no entry for this model
  }
}

/** Every model of the workspace analyzed (those gone forgotten), then every lrp-lens.json validated. */
export async function scanAll(state: ServerState): Promise<void> {
  const started = Date.now();
  const { settings } = state;
  const found = await state.discover({ include: settings.modelGlobs, exclude: settings.exclude, maxFileBytes: settings.maxFileSizeMB * 1024 * 1024 });
  for (const t of found.tooLarge) state.log(`skipped ${t.file}: ${(t.bytes / 1048576).toFixed(0)} MB is over lrpLens.maxFileSizeMB`);
  if (found.truncated) state.log('the workspace scan stopped at its budget of folder entries (SCAN_MAX_ENTRIES); narrow lrpLens.modelGlobs or lrpLens.exclude');
  for (const file of [...state.models.keys()]) if (!found.files.includes(file)) forget(state, file);
  await Promise.all(found.files.map((f) => analyze(state, f)));
  state.log(`analyzed ${found.files.length} model file(s) in ${Date.now() - started} ms`);
  await validateProjects(state);
}

/** Analyzes one model and publishes its diagnostics, unless a newer change or a delete overtook it. */
export async function analyze(state: ServerState, file: string): Promise<void> {
  const version = state.bumpVersion(file);
  let entry = state.models.get(file);
  if (!entry) {
    entry = { summary: pendingSummary(file), mapFindings: [] };
    state.models.set(file, entry);
  }
  let summary: ModelSummary;
  let hashed: HashedFile | undefined;
  try {
    hashed = await hashModelFile(file, file.toLowerCase().endsWith('.json'));
    summary = await summaryOf(state, file, hashed);
  } catch (e) {
    const err = toLensError(e, file);
    if (err.code === 'CANCELLED' && state.versions.get(file) !== version) return;
    summary = { ...pendingSummary(file), state: 'error', error: err.toJSON(), contentHash: hashed?.hash };
    // A load error is as much a result of the content as a summary; a cancelled or crashed job is not.
    if (hashed && err.code !== 'CANCELLED' && !err.message.startsWith('worker crashed')) state.analysisCache.set(analysisKey(hashed.hash, state.settings, state.projectFileFor(file)), summary);
  }
  if (state.versions.get(file) !== version || !state.models.has(file)) return; // a newer change or a delete won
  if (entry.hash !== hashed?.hash) {
    entry.mapFindings = [];
    entry.shares = undefined;
  }
  entry.summary = summary;
  entry.text = hashed?.text;
  entry.hash = hashed?.hash;
  publishModel(state, file);
  sendStatus(state);
}

/** The cached summary of this content under these settings, else the analyze job's. */
async function summaryOf(state: ServerState, file: string, hashed: HashedFile): Promise<ModelSummary> {
  const projectFile = state.projectFileFor(file);
  const key = analysisKey(hashed.hash, state.settings, projectFile);
  const hit = state.analysisCache.get(key);
  if (hit) return rehome(hit, file);
  const jobId = state.nextJobId('analyze');
  const payload: AnalyzePayload = { file, settings: { composite: state.settings.composite, disabledChecks: state.settings.disabledChecks }, projectFile };
  const handle = state.workers.run<ModelSummary>('analyze', payload);
  state.jobs.set(jobId, { kind: 'analyze', model: file, cancel: handle.cancel });
  let r: ModelSummary;
  try {
    r = await handle.promise;
  } finally {
    state.jobs.delete(jobId);
  }
  // The model is the path analyzed (a SavedModel's folder, not the saved_model.pb the loader read).
  const summary: ModelSummary = { ...r, file, uri: pathToFileURL(file).href, contentHash: hashed.hash, findings: r.findings.map((f) => (f.file === r.file ? { ...f, file } : f)) };
  state.analysisCache.set(key, summary);
  return summary;
}

/** A model gone: its diagnostics cleared, any analysis still running for it dropped. */
export function forget(state: ServerState, file: string): void {
  state.bumpVersion(file);
  state.models.delete(file);
  publishModel(state, file);
  sendStatus(state);
}

/** Re-analyzes a changed model after a quiet spell (a save is several events), or forgets it. */
export function schedule(state: ServerState, file: string, delayMs = 150): void {
  state.debounce.run(file, delayMs, () => {
    if (!existsSync(file)) forget(state, file);
    else if (state.modelOf(file) === file) void analyze(state, file);
    else if (state.models.has(file)) forget(state, file); // now a symlink, a FIFO, ...: no model, as in the scan
  });
}

function pendingSummary(file: string): ModelSummary {
  return { uri: pathToFileURL(file).href, file, name: basename(file), state: 'pending', inputs: [], outputs: [], layers: [], totalParams: 0, findings: [] };
}

/** Same content analyzed for another path: the same result with this path in it. */
function rehome(s: ModelSummary, file: string): ModelSummary {
  return {
    ...s,
    file,
    uri: pathToFileURL(file).href,
    findings: s.findings.map((f) => ({ ...f, file: f.file === s.file ? file : f.file })),
    error: s.error ? { ...s.error, file } : undefined,
    analysisMs: 0,
  };
}
