/** lrpLens/checkData: the relevance-map checks (LRP2xx) on samples, published as diagnostics on the model too. */
import type { CancellationToken } from 'vscode-languageserver/node';
import type { CheckDataParams, CheckDataResult } from '../../protocol.js';
import type { CheckDataJobPayload, CheckDataJobResult } from '../check-data-job.js';
import type { ServerState } from '../state.js';
import { confineDraft, entryDir } from './data-form.js';
import { publishModel } from './diagnostics.js';
import { runLong, type WithProgressToken } from './long-job.js';

export async function checkData(state: ServerState, params: CheckDataParams, token: CancellationToken): Promise<CheckDataResult> {
  const file = state.resolveModel(params.model);
  if (params.samples?.data) params.samples.data = state.confined(params.samples.data, 'data file');
  // A data-form entry reads only confined files, as explain's does.
  if (params.entry) params.entry = confineDraft(state, params.entry, entryDir(state, file));
  const jobId = params.jobId ?? state.nextJobId('check');
  const payload: CheckDataJobPayload = {
    file,
    params: { model: params.model, samples: params.samples, composite: params.composite, target: params.target, rules: params.rules, init: params.init, entry: params.entry },
    composite: state.compositeOf(params.composite),
    compositeExplicit: params.composite !== undefined,
    projectFile: state.projectFileFor(file),
    settings: { disabledChecks: state.settings.disabledChecks, composite: state.settings.composite, compositeParams: state.settings.compositeParams },
  };
  const started = Date.now();
  const { findings, twins } = await runLong<CheckDataJobResult>(state, { kind: 'checkData', jobId, file, payload }, token, params as WithProgressToken);
  const entry = state.models.get(file);
  if (entry) {
    entry.mapFindings = findings;
    publishModel(state, file);
  }
  return { jobId, model: file, findings, ...(twins.length ? { twins } : {}), durationMs: Date.now() - started };
}
