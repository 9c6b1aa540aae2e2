/**
 * File events, from the client (workspace/didChangeWatchedFiles) or from our own folder watcher for
 * clients that cannot watch: a changed model is re-analyzed, a changed weight shard re-analyzes its
 * model.json, a changed lrp-lens.json is validated again, a deleted model is forgotten.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileChangeType, type DidChangeWatchedFilesParams } from 'vscode-languageserver/node';
import { PROJECT_FILE } from '../project.js';
import type { ServerState } from '../state.js';
import { FolderWatcher } from '../watch.js';
import { validateProject } from './diagnostics.js';
import { forget, schedule } from './models.js';

export function didChangeWatchedFiles(state: ServerState, p: DidChangeWatchedFilesParams): void {
  for (const c of p.changes) {
    const file = pathOfUri(c.uri);
    if (!file) continue;
    if (c.type === FileChangeType.Deleted && state.models.has(file)) {
      state.debounce.cancel(file);
      forget(state, file);
    } else onFsEvent(state, file);
  }
}

export function onFsEvent(state: ServerState, file: string): void {
  if (basename(file) === PROJECT_FILE) {
    state.debounce.run(file, 150, () => void validateProject(state, file));
    // Its entries choose the models' composites, which the static checks judge under.
    for (const m of state.models.keys()) if (state.projectFileFor(m) === file) schedule(state, m);
    return;
  }
  if (/\.bin$/i.test(file)) {
    // A weight shard changed: re-analyze the model.json files beside it.
    for (const m of state.models.keys()) if (dirname(m) === dirname(file) && m.endsWith('.json')) schedule(state, m);
    return;
  }
  if (!existsSync(file)) {
    // Gone (a folder or a symlink to one included): so are the models that were under it.
    for (const m of [...state.models.keys()]) if (m === file || m.startsWith(file + sep)) schedule(state, m);
    const owner = state.modelOf(file);
    if (owner && owner !== file) schedule(state, owner); // a SavedModel lost one of its files
    return;
  }
  const model = state.models.has(file) ? file : state.modelOf(file);
  if (model) schedule(state, model);
}

/** Our own watchers, for clients that cannot register file watchers. */
export async function startFsWatchers(state: ServerState): Promise<void> {
  state.folderWatcher?.close();
  state.folderWatcher = new FolderWatcher([...state.roots], state.settings.exclude, (file) => onFsEvent(state, file), (msg) => state.log(msg));
  await state.folderWatcher.start();
}

/** The local path of a file: URI; undefined for other schemes and for URIs that name no local file. */
export function pathOfUri(uri: unknown): string | undefined {
  if (typeof uri !== 'string' || !uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}
