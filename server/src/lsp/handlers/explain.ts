/** lrpLens/explain: relevance maps of a model on samples, cached by content, composite and inputs; lrpLens/explainDone after each. */
import type { CancellationToken } from 'vscode-languageserver/node';
import { Notification, type ExplainParams, type ExplainResult } from '../../protocol.js';
import type { ExplainJobPayload } from '../explain-job.js';
import { explainKey, stamp } from '../cache-keys.js';
import { hashModelFile } from '../content-hash.js';
import type { ServerState } from '../state.js';
import { confineDraft, entryDir } from './data-form.js';
import { runLong, type WithProgressToken } from './long-job.js';
import { sendStatus } from './status.js';

export async function explain(state: ServerState, params: ExplainParams, token: CancellationToken): Promise<ExplainResult> {
  const file = state.resolveModel(params.model);
  if (params.samples?.data) params.samples.data = state.confined(params.samples.data, 'data file');
  // A data-form entry reads only confined files, as samples.data does (paths made absolute from the entry's folder).
  if (params.entry) params.entry = confineDraft(state, params.entry, entryDir(state, file));
  const entry = state.models.get(file);
  const composite = state.compositeOf(params.composite);
  const jobId = params.jobId ?? state.nextJobId('explain');
  const projectFile = state.projectFileFor(file);
  const hash = entry?.hash ?? (await hashModelFile(file, file.endsWith('.json'))).hash;
  const key = explainKey(params, { hash, composite, backend: state.settings.backend, projectFile: stamp(projectFile) });
  const hit = state.explainCache.get(key);
  if (hit) return { ...hit, jobId, cached: true };
  const payload: ExplainJobPayload = { file, params: { ...params, layerShares: params.layerShares !== false }, composite, compositeExplicit: params.composite !== undefined, projectFile, settings: { composite: state.settings.composite, compositeParams: state.settings.compositeParams } };
  const started = Date.now();
  const r = await runLong<Omit<ExplainResult, 'jobId' | 'cached'>>(state, { kind: 'explain', jobId, file, payload }, token, params as WithProgressToken);
  const result: ExplainResult = { ...r, jobId, cached: false, durationMs: r.durationMs ?? Date.now() - started };
  if (params.samples) result.selection = { ...params.samples };
  else if (projectFile) result.projectFile = projectFile;
  state.explainCache.set(key, result);
  state.activeBackend = result.backend;
  sendStatus(state);
  if (entry && result.layerShares) entry.shares = new Map(result.layerShares.map((s) => [s.layer, s.share]));
  state.notify(Notification.explainDone, { result });
  return result;
}
