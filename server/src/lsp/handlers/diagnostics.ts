/**
 * Publishing diagnostics: a model's (its load error or findings, and the last checkData's map findings)
 * and each lrp-lens.json's (validated as it is typed, and on every scan).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SAVED_MODEL_FILE } from '../../core/model/model-file-names.js';
import { modelDiagnostics } from '../convert.js';
import { savedModelPb } from '../discovery.js';
import { projectDiagnostics, PROJECT_FILE } from '../project.js';
import type { ServerState } from '../state.js';

/**
 * Where a model's diagnostics go: the file itself, or for a SavedModel folder its saved_model.pb, a file
 * the Problems panel can open (the custom editor shows the model from it).
 */
function diagnosticUri(file: string): string {
  return pathToFileURL(savedModelPb(file) ? join(file, SAVED_MODEL_FILE) : file).href;
}

/** A model's diagnostics as they stand, or none when it is gone (cleared where they were last shown). */
export function publishModel(state: ServerState, file: string): void {
  const entry = state.models.get(file);
  const before = state.publishedAt.get(file);
  if (!entry) {
    state.publishedAt.delete(file);
    void state.connection.sendDiagnostics({ uri: before ?? pathToFileURL(file).href, diagnostics: [] });
    return;
  }
  const uri = diagnosticUri(file);
  if (before !== undefined && before !== uri) void state.connection.sendDiagnostics({ uri: before, diagnostics: [] });
  state.publishedAt.set(file, uri);
  const diagnostics = modelDiagnostics(entry.summary, { uri, text: entry.text, docs: state.docsHref }, state.settings.disabledChecks, entry.mapFindings);
  void state.connection.sendDiagnostics({ uri, diagnostics });
}

/** Every lrp-lens.json in the workspace: its problems as diagnostics at the offending keys. */
export async function validateProjects(state: ServerState): Promise<void> {
  // Any size: an oversized project file gets a diagnostic saying so (projectDiagnostics checks the budget).
  const found = await state.discover({ include: [`**/${PROJECT_FILE}`], exclude: state.settings.exclude, maxFileBytes: Number.MAX_SAFE_INTEGER });
  for (const file of state.projectPublished) {
    if (found.files.includes(file)) continue;
    state.projectPublished.delete(file);
    void state.connection.sendDiagnostics({ uri: pathToFileURL(file).href, diagnostics: [] });
  }
  for (const file of found.files) await validateProject(state, file);
}

/** One project file; `text` is the editor's unsaved text when it is open. */
export async function validateProject(state: ServerState, file: string, text?: string): Promise<void> {
  const uri = pathToFileURL(file).href;
  const run = (state.projectRuns.get(file) ?? 0) + 1;
  state.projectRuns.set(file, run);
  if (text === undefined && !existsSync(file)) {
    if (state.projectPublished.delete(file)) void state.connection.sendDiagnostics({ uri, diagnostics: [] });
    return;
  }
  const inputShapeOf = (model: string) => {
    const s = state.models.get(model)?.summary;
    return s?.state === 'ok' ? s.inputs[0]?.shape : undefined;
  };
  // Untrusted: the structure only, no data file opened (nothing outside the folder is read).
  const diagnostics = await projectDiagnostics(file, state.docsHref, inputShapeOf, text ?? state.documents.get(uri)?.getText(), { checkData: state.trusted });
  // A newer edit started a newer validation: its result, not this older one, is the truth.
  if (state.projectRuns.get(file) !== run) return;
  state.projectPublished.add(file);
  void state.connection.sendDiagnostics({ uri, diagnostics });
}
