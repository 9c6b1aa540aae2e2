/**
 * The dispatch table: which handler serves each message. The lrpLens/* requests are typed by their
 * method (protocol.ts `Requests`): each pairs the parameter check at the door (request-params.ts)
 * with its handler, and errors leave as ResponseErrors. Standard LSP messages are registered below it.
 */
import { ErrorCodes, LSPErrorCodes, ResponseError, type CancellationToken } from 'vscode-languageserver/node';
import { toLensError } from '../core/errors.js';
import { Method, type ParamsOf, type PngRequest, type RequestMethod, type ResultOf } from '../protocol.js';
import { allowPathsParams, cancelParams, checkDataParams, describeDataParams, explainParams, listModelsParams, planInputParams, reanalyzeParams, saveEntryParams } from './request-params.js';
import type { ServerState } from './state.js';
import { checkData } from './handlers/check-data.js';
import { describeData, planInput, saveEntry } from './handlers/data-form.js';
import { codeAction, didChangeContent, executeCommand, hover } from './handlers/documents.js';
import { explain } from './handlers/explain.js';
import { exportNetcdf } from './handlers/export-netcdf.js';
import { didChangeWatchedFiles } from './handlers/files.js';
import { initialize, initialized, shutdown } from './handlers/lifecycle.js';
import { cancel } from './handlers/long-job.js';
import { listModels } from './handlers/models.js';
import { renderPng } from './handlers/render.js';
import { allowPaths, didChangeConfiguration, didChangeWorkspaceFolders, reanalyze } from './handlers/workspace.js';

export type RequestHandler<M extends RequestMethod> = (state: ServerState, params: ParamsOf<M>, token: CancellationToken) => Promise<ResultOf<M>>;

interface Route<M extends RequestMethod> {
  /** The wire's parameters checked and typed (BAD_INPUT naming the field otherwise). */
  params: (raw: unknown) => ParamsOf<M>;
  handler: RequestHandler<M>;
}

export const REQUESTS: { [M in RequestMethod]: Route<M> } = {
  [Method.listModels]: { params: listModelsParams, handler: listModels },
  [Method.explain]: { params: explainParams, handler: explain },
  [Method.checkData]: { params: checkDataParams, handler: checkData },
  [Method.cancel]: { params: cancelParams, handler: cancel },
  [Method.reanalyze]: { params: reanalyzeParams, handler: reanalyze },
  // The renderer checks its request itself (core/render/png-request.ts).
  [Method.renderPng]: { params: (raw) => raw as PngRequest, handler: renderPng },
  [Method.allowPaths]: { params: allowPathsParams, handler: allowPaths },
  [Method.describeData]: { params: describeDataParams, handler: describeData },
  [Method.planInput]: { params: planInputParams, handler: planInput },
  [Method.saveEntry]: { params: saveEntryParams, handler: saveEntry },
  // The same request as explain, checked the same way.
  [Method.exportNetcdf]: { params: explainParams, handler: exportNetcdf },
};

/** Every handler registered on the state's connection. */
export function registerHandlers(state: ServerState): void {
  const c = state.connection;
  for (const method of Object.keys(REQUESTS) as RequestMethod[]) registerRequest(state, method);
  c.onInitialize((p) => initialize(state, p));
  c.onInitialized(async () => {
    if (state.clientCan.workspaceFolders) c.workspace.onDidChangeWorkspaceFolders((e) => didChangeWorkspaceFolders(state, e));
    await initialized(state);
  });
  c.onDidChangeConfiguration(() => didChangeConfiguration(state));
  c.onDidChangeWatchedFiles((p) => didChangeWatchedFiles(state, p));
  c.onHover((p) => hover(state, p));
  c.onCodeAction((p) => codeAction(state, p));
  // Not advertised (VS Code's client would register the commands twice): only a client that sends its
  // own commands back, such as Neovim, reaches this.
  c.onExecuteCommand((p) => executeCommand(state, p));
  c.onShutdown(() => shutdown(state));
  state.documents.onDidChangeContent((e) => didChangeContent(state, e));
}

function registerRequest<M extends RequestMethod>(state: ServerState, method: M): void {
  const route = REQUESTS[method] as Route<M>;
  state.connection.onRequest(method, guarded((raw: unknown, token) => route.handler(state, route.params(raw), token)));
}

/**
 * Errors leave a request as ResponseErrors carrying the structured error in `data`; a cancelled job
 * as RequestCancelled (what LSP clients expect after $/cancelRequest).
 */
export function guarded<P, R>(fn: (p: P, token: CancellationToken) => Promise<R>): (p: P, token: CancellationToken) => Promise<R> {
  return async (p, token) => {
    try {
      return await fn(p, token);
    } catch (e) {
      const err = toLensError(e);
      const code = err.code === 'CANCELLED' ? LSPErrorCodes.RequestCancelled : err.code === 'INTERNAL' ? ErrorCodes.InternalError : LSPErrorCodes.RequestFailed;
      throw new ResponseError(code, `${err.code}: ${err.message}`, err.toJSON());
    }
  };
}
