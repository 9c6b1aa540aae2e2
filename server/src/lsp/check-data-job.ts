/**
 * The language server's data check (run on a worker thread): the session of the request (the same
 * composite, parameters, ZBox bounds, samples and mask as `lrp-lens check --config` and the report
 * choose), its relevance-map checks, and the findings in the protocol's form.
 */
import type { FindingSummary, LensSettings } from '../protocol.js';
import { checkMaps } from '../core/session/check-maps.js';
import type { JobContext } from './jobs.js';
import { findingSummary, getGraph, type WorkerConfig } from './analyzer.js';
import { ensureBackend, jobSession, type ExplainJobPayload } from './explain-job.js';

export interface CheckDataJobPayload extends ExplainJobPayload {
  settings: Pick<LensSettings, 'disabledChecks'> & Partial<Pick<LensSettings, 'composite' | 'compositeParams'>>;
}

export async function checkDataJob(p: CheckDataJobPayload, ctx: JobContext, config: WorkerConfig): Promise<FindingSummary[]> {
  ctx.progress(0, 3, 'loading the model');
  const graph = await getGraph(p.file);
  const session = await jobSession(p, graph);
  ctx.checkCancelled();
  await ensureBackend(config);
  // The engine passes behind the checks: the maps, runner-up maps, randomization and blank controls.
  ctx.progress(1, 3, 'explaining the samples and their controls');
  const severity: Record<string, 'off'> = {};
  for (const code of p.settings.disabledChecks) severity[code] = 'off';
  const sel = p.params.samples ?? {};
  const { mapFindings } = await checkMaps(session, { indices: sel.indices, maxSamples: sel.maxSamples, severity });
  ctx.checkCancelled();
  ctx.progress(3, 3);
  return mapFindings.map(findingSummary);
}
