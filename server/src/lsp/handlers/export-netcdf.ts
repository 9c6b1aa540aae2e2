/** lrpLens/exportNetcdf: the explanation of an explain request as a CF NetCDF file, computed on the worker pool. */
import type { CancellationToken } from 'vscode-languageserver/node';
import type { ExportNetcdfParams, ExportNetcdfResult } from '../../protocol.js';
import type { ExportNetcdfPayload } from '../export-netcdf-job.js';
import type { ServerState } from '../state.js';
import { runLong, type WithProgressToken } from './long-job.js';

export async function exportNetcdf(state: ServerState, params: ExportNetcdfParams, token: CancellationToken): Promise<ExportNetcdfResult> {
  const file = state.resolveModel(params.model);
  if (params.samples?.data) params.samples.data = state.confined(params.samples.data, 'data file');
  const composite = state.compositeOf(params.composite);
  const jobId = params.jobId ?? state.nextJobId('explain');
  const payload: ExportNetcdfPayload = {
    file,
    params: { ...params, layerShares: false },
    composite,
    compositeExplicit: params.composite !== undefined,
    projectFile: state.projectFileFor(file),
    settings: { composite: state.settings.composite, compositeParams: state.settings.compositeParams },
    netcdf: true,
  };
  // An explain job to the pool (same progress, cancellation and status); the worker sees the netcdf mark.
  return runLong<ExportNetcdfResult>(state, { kind: 'explain', jobId, file, payload }, token, params as WithProgressToken);
}
