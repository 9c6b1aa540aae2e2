/**
 * The panel's "Export NetCDF" on a worker thread: the explain request is run again exactly as explain runs
 * it (same session: model, samples or project data, composite, target) and the explanation is written
 * as a CF NetCDF file with the data's coordinates (core/session/relevance-netcdf.ts). Computing again
 * rather than keeping every explanation's arrays on the server: an export is rare, explanations many.
 */
import { basename } from 'node:path';
import { sessionRelevanceNetcdf } from '../core/session/relevance-netcdf.js';
import type { ExportNetcdfResult } from '../protocol.js';
import type { JobContext } from './jobs.js';
import { getGraph, type WorkerConfig } from './analyzer.js';
import { ensureBackend, explainRequested, jobSession, type ExplainJobPayload } from './explain-job.js';

/** An explain job's payload marked for NetCDF: the worker runs this instead of explainJob. */
export type ExportNetcdfPayload = ExplainJobPayload & { netcdf: true };

export function isExportNetcdfPayload(p: unknown): p is ExportNetcdfPayload {
  return typeof p === 'object' && p !== null && (p as { netcdf?: unknown }).netcdf === true;
}

/** A file name from the model and what was explained: cnn_pixel-40-10.nc. */
export function netcdfFileName(model: string, target: string): string {
  const stem = basename(model).replace(/\.[^.]+$/, '');
  return `${stem}_${target.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'relevance'}.nc`;
}

export async function exportNetcdfJob(p: ExportNetcdfPayload, ctx: JobContext, config: WorkerConfig): Promise<ExportNetcdfResult> {
  ctx.progress(0, 1, 'loading the model');
  const graph = await getGraph(p.file);
  ctx.checkCancelled();
  const session = await jobSession(p, graph);
  await ensureBackend(config);
  const e = await explainRequested(session, p, ctx);
  const bytes = sessionRelevanceNetcdf(session, e, { history: `LRP Lens (VS Code panel): explain ${basename(p.file)}, target ${session.choice.target}, composite ${e.composite}` });
  return { base64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'), fileName: netcdfFileName(p.file, session.choice.target) };
}
