/**
 * The language server's data check (run on a worker thread): the session of the request (the same
 * composite, parameters, ZBox bounds, samples and mask as `lrp-lens check --config` and the report
 * choose), its relevance-map checks, and the findings in the protocol's form.
 */
import type { EncodedArray, FindingSummary, LensSettings, RemedyTwinMaps } from '../protocol.js';
import { remedyTwins, twinShareMaps } from '../core/artifacts/remedy-twins.js';
import { checkMaps } from '../core/session/check-maps.js';
import type { JobContext } from './jobs.js';
import { findingSummary, getGraph, type WorkerConfig } from './analyzer.js';
import { ensureBackend, jobSession, type ExplainJobPayload } from './explain-job.js';

export interface CheckDataJobPayload extends ExplainJobPayload {
  settings: Pick<LensSettings, 'disabledChecks'> & Partial<Pick<LensSettings, 'composite' | 'compositeParams'>>;
}

export interface CheckDataJobResult {
  findings: FindingSummary[];
  /** The warnings' remedy twins (the maps without the artifact), for the panel. */
  twins: RemedyTwinMaps[];
}

function encode(data: Float32Array, shape: number[]): EncodedArray {
  return { shape, dtype: 'float32', base64: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') };
}

export async function checkDataJob(p: CheckDataJobPayload, ctx: JobContext, config: WorkerConfig): Promise<CheckDataJobResult> {
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
  const { mapFindings, ctx: judged } = await checkMaps(session, { indices: sel.indices, dates: sel.dates, timeRange: sel.timeRange, maxSamples: sel.maxSamples, severity });
  ctx.checkCancelled();
  ctx.progress(3, 3);
  const twins = remedyTwins(judged, mapFindings).map((t): RemedyTwinMaps => {
    const m = twinShareMaps(judged, t);
    return { code: t.code, name: t.name, statisticName: t.statisticName, statistic: t.statistic, twinStatistic: t.twinStatistic, height: m.height, width: m.width, user: encode(m.user, [m.height, m.width]), twin: encode(m.twin, [m.height, m.width]) };
  });
  return { findings: mapFindings.map(findingSummary), twins };
}
