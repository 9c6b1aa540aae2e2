/** initialize (capabilities, settings, workers started), initialized (watchers, first scan), shutdown. */
import { CodeActionKind, DidChangeWatchedFilesNotification, TextDocumentSyncKind, type InitializeParams, type InitializeResult } from 'vscode-languageserver/node';
import type { InitializationOptions } from '../../protocol.js';
import { PROJECT_FILE } from '../project.js';
import { checkSettings } from '../settings.js';
import type { ServerState } from '../state.js';
import { pathOfUri, startFsWatchers } from './files.js';
import { scanAll } from './models.js';
import { loadSettings, reportSettings } from './workspace.js';
import { ADD_DATA_SOURCE_KIND } from '../code-actions.js';

export function initialize(state: ServerState, params: InitializeParams): InitializeResult {
  const io = params.initializationOptions;
  state.initOptions = io && typeof io === 'object' && !Array.isArray(io) ? (io as InitializationOptions) : {};
  state.trusted = state.initOptions.trusted !== false;
  const folders = params.workspaceFolders?.map((f) => f.uri) ?? (params.rootUri ? [params.rootUri] : []);
  state.roots = folders.map(pathOfUri).filter((p): p is string => p !== undefined);
  const caps = params.capabilities;
  state.clientCan = {
    pullConfig: caps.workspace?.configuration === true,
    registerWatchers: caps.workspace?.didChangeWatchedFiles?.dynamicRegistration === true,
    progress: caps.window?.workDoneProgress === true,
    workspaceFolders: caps.workspace?.workspaceFolders === true,
  };
  const init = checkSettings(state.initOptions.settings);
  state.applySettings(init.settings);
  reportSettings(state, init.problems);
  // Start the workers now: their start-up (loading the core) overlaps the client's next round trips.
  state.startWorkers();
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, ADD_DATA_SOURCE_KIND] },
      workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
    },
    serverInfo: { name: 'lrp-lens', version: '0.1.0' },
  };
}

/** Settings pulled, file watching set up (the client's, else ours), the first scan. */
export async function initialized(state: ServerState): Promise<void> {
  await loadSettings(state);
  if (state.clientCan.registerWatchers) {
    const globs = [...state.settings.modelGlobs, `**/${PROJECT_FILE}`, '**/*.bin'];
    await state.connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: globs.map((globPattern) => ({ globPattern })) });
  } else await startFsWatchers(state);
  await scanAll(state);
}

export async function shutdown(state: ServerState): Promise<void> {
  state.folderWatcher?.close();
  state.debounce.cancelAll();
  await state.disposeWorkers();
}
