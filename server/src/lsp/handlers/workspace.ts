/**
 * The workspace as a whole: its folders (workspace/didChangeWorkspaceFolders), its settings
 * (workspace/didChangeConfiguration), lrpLens/reanalyze and lrpLens/allowPaths.
 */
import { realpathSync } from 'node:fs';
import type { WorkspaceFoldersChangeEvent } from 'vscode-languageserver/node';
import type { AllowPathsParams, AllowPathsResult, ReanalyzeParams, ReanalyzeResult } from '../../protocol.js';
import { checkSettings } from '../settings.js';
import type { ServerState } from '../state.js';
import { pathOfUri, startFsWatchers } from './files.js';
import { analyze, scanAll } from './models.js';

export async function didChangeWorkspaceFolders(state: ServerState, e: WorkspaceFoldersChangeEvent): Promise<void> {
  const gone = new Set(e.removed.map((f) => pathOfUri(f.uri)));
  const added = e.added.map((f) => pathOfUri(f.uri)).filter((p): p is string => p !== undefined);
  state.roots = [...state.roots.filter((r) => !gone.has(r)), ...added];
  if (!state.clientCan.registerWatchers) await startFsWatchers(state);
  await scanAll(state);
}

export async function didChangeConfiguration(state: ServerState): Promise<void> {
  await loadSettings(state);
  state.analysisCache.clear();
  await scanAll(state);
}

/** Defaults, then initializationOptions.settings, then the client's lrpLens section, each value checked. */
export async function loadSettings(state: ServerState): Promise<void> {
  const init = checkSettings(state.initOptions.settings);
  let next = init.settings;
  const problems = [...init.problems];
  if (state.clientCan.pullConfig) {
    try {
      const [cfg] = (await state.connection.workspace.getConfiguration([{ section: 'lrpLens' }])) as [unknown];
      if (cfg && typeof cfg === 'object') {
        const checked = checkSettings(stripUndefined(cfg), next);
        next = checked.settings;
        problems.push(...checked.problems);
      }
    } catch {
      /* the client did not answer: keep the defaults */
    }
  }
  reportSettings(state, problems);
  state.applySettings(next);
}

/** Settings problems go to the log and, once per distinct set, to the user. */
export function reportSettings(state: ServerState, problems: string[]): void {
  for (const p of problems) state.log(`settings: ${p}`);
  const key = problems.join('\n');
  if (key && key !== state.shownProblems) state.warn(`LRP Lens: ${problems.join('; ')}`);
  state.shownProblems = key;
}

export async function reanalyze(state: ServerState, p: ReanalyzeParams): Promise<ReanalyzeResult> {
  // A model of the workspace's own globs: any other path (/etc/passwd) is no model to list.
  const file = p.model ? state.resolveModel(p.model, state.modelGlobs) : undefined;
  state.analysisCache.clear();
  state.explainCache.clear();
  if (file) {
    await analyze(state, file);
    return { models: 1 };
  }
  await scanAll(state);
  return { models: state.models.size };
}

export async function allowPaths(state: ServerState, p: AllowPathsParams): Promise<AllowPathsResult> {
  // The client sends what the user picked in a file dialog; each is allowed as the file it is now.
  let allowed = 0;
  for (const path of p.paths) {
    try {
      state.allowedPaths.add(realpathSync(state.toPath(path, 'path')));
      allowed++;
    } catch {
      /* gone already, or no absolute path: nothing to allow */
    }
  }
  return { allowed };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null) (out as Record<string, unknown>)[k] = v;
  return out;
}
