/**
 * Code actions on findings and models: every finding whose remedy is another view or composite gets an
 * action that does it (the table: code-action-table.ts), and a model with no data yet gets "Add data for
 * this model...". Composites are written into the model's lrp-lens.json entry when it has one, else set
 * through the lrpLens.composite setting; views and explanations are client commands (the VS Code client
 * implements them; a plain LSP client that sends them back gets a message saying what to do instead).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { findEntry, parseProject, type ModelEntry } from '../core/data/project.js';
import { CodeActionKind, type CodeAction, type Command, type Diagnostic, type TextEdit } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { ExplainCommandOptions, LensSettings, PanelFocus } from '../protocol.js';
import type { CompositeName } from '../core/names.js';
import { LOAD_ERROR_CODE, SOURCE } from './convert.js';
import { locateJson } from './json-paths.js';
import { PROJECT_FILE } from './project.js';
import { REMEDIES, type Remedy } from './code-action-table.js';

/** Client commands the actions run (client/src/commands.ts registers them). */
export const SET_COMPOSITE_COMMAND = 'lrpLens.setComposite';
export const SHOW_PANEL_COMMAND = 'lrpLens.showPanel';
export const EXPLAIN_COMMAND = 'lrpLens.explainModel';
export const ADD_DATA_COMMAND = 'lrpLens.addData';

/** "Add data for this model..." without a diagnostic to hang it on: a source action on the model file. */
export const ADD_DATA_SOURCE_KIND = `${CodeActionKind.Source}.lrpLens.addData`;

export interface CodeActionContext {
  roots: string[];
  /** Text of the open document the actions are for, when open. */
  projectText?: string;
  settings: LensSettings;
  /** The lrp-lens.json that governs a model file (the server's rule); default: the first root that has one. */
  projectFileFor?: (modelFile: string) => string | undefined;
  /** The document is a model the server knows (then "Add data" is offered even without a diagnostic). */
  isModel?: boolean;
  /** The kinds the client asked for (CodeActionContext.only); all when absent. */
  only?: string[];
}

/** The model's project file, its text and its entry (undefined where it has none). */
interface ModelProject {
  file?: string;
  uri?: string;
  text?: string;
  entry?: ModelEntry;
}

function projectOf(uri: string, modelFile: string | undefined, ctx: CodeActionContext): ModelProject {
  const file = modelFile && ctx.projectFileFor ? ctx.projectFileFor(modelFile) : ctx.roots.map((r) => join(r, PROJECT_FILE)).find((p) => existsSync(p));
  if (!file) return {};
  const projectUri = pathToFileURL(file).href;
  let text: string | undefined;
  try {
    text = projectUri === uri && ctx.projectText !== undefined ? ctx.projectText : readFileSync(file, 'utf8');
  } catch {
    return { file, uri: projectUri };
  }
  let entry: ModelEntry | undefined;
  if (modelFile) {
    try {
      const { project } = parseProject(text, file);
      if (project) entry = findEntry(project, modelFile);
    } catch {
      entry = undefined; // no entry for this model
    }
  }
  return { file, uri: projectUri, text, entry };
}

const wants = (only: string[] | undefined, kind: string) => !only || only.some((o) => kind === o || kind.startsWith(`${o}.`));

export function codeActionsFor(uri: string, diagnostics: Diagnostic[], ctx: CodeActionContext): CodeAction[] {
  const actions: CodeAction[] = [];
  const modelFile = uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
  const onProject = modelFile !== undefined && basename(modelFile) === PROJECT_FILE;
  const proj = projectOf(uri, onProject ? undefined : modelFile, ctx);
  const current = proj.entry?.explain?.composite ?? ctx.settings.composite;
  const ours = diagnostics.filter((d) => d.source === SOURCE && typeof d.code === 'string');
  const quickFix = wants(ctx.only, CodeActionKind.QuickFix);

  for (const d of quickFix ? ours : []) {
    const code = d.code as string;
    const data = (d.data ?? {}) as { finding?: Record<string, unknown>; layer?: unknown };
    const remedies: Remedy[] = [...(REMEDIES[code] ?? [])];
    // A finding may name its own composite (more specific than the table's).
    if (typeof data.finding?.suggestedComposite === 'string') remedies.unshift({ kind: 'composite', composite: data.finding.suggestedComposite as CompositeName });
    const layer = typeof data.layer === 'string' ? data.layer : undefined;
    let composites = 0;
    for (const r of remedies) {
      if (r.kind === 'composite') {
        const to = typeof r.composite === 'string' ? r.composite : r.composite(current);
        if (!to || to === current || composites++ > 0 || !modelFile) continue;
        const a = compositeAction(d, to, proj, modelFile);
        if (a) actions.push(a);
      } else if (onProject || !modelFile) {
        continue; // views and explanations are about a model file
      } else if (r.kind === 'view') {
        const focus: PanelFocus = { model: uri, ...r.focus };
        actions.push({ title: r.title, kind: CodeActionKind.QuickFix, diagnostics: [d], command: { title: r.title, command: SHOW_PANEL_COMMAND, arguments: [focus] } });
      } else {
        const rules = typeof r.rules === 'string' ? r.rules : r.rules(layer, current);
        if (!rules) continue;
        const opts: ExplainCommandOptions = { rules };
        actions.push({ title: r.title, kind: CodeActionKind.QuickFix, diagnostics: [d], command: { title: r.title, command: EXPLAIN_COMMAND, arguments: [uri, opts] } });
      }
    }
  }

  // A model with no data yet: the data form, from a quick fix on its diagnostics or a source action
  // (not for a model that did not load: it cannot be explained on any data).
  const loads = !ours.some((d) => d.code === LOAD_ERROR_CODE);
  if (modelFile && !onProject && !proj.entry && loads && (ours.length > 0 || ctx.isModel)) {
    const command: Command = { title: 'Add data for this model...', command: ADD_DATA_COMMAND, arguments: [uri] };
    if (ours.length > 0 && quickFix) actions.push({ title: command.title, kind: CodeActionKind.QuickFix, diagnostics: ours, command });
    else if (ours.length === 0 && wants(ctx.only, ADD_DATA_SOURCE_KIND)) actions.push({ title: command.title, kind: ADD_DATA_SOURCE_KIND, command });
  }
  return actions;
}

/** Switch to `to`: an edit of the model's lrp-lens.json entry, else the setting (when it differs). */
function compositeAction(d: Diagnostic, to: string, proj: ModelProject, modelFile: string): CodeAction | undefined {
  const edit = proj.file && proj.text !== undefined ? compositeEdit(proj.text, to, proj.file, modelFile) : undefined;
  if (edit) {
    return {
      title: `Switch the composite of '${edit.entry}' to '${to}' in lrp-lens.json`,
      kind: CodeActionKind.QuickFix,
      diagnostics: [d],
      isPreferred: true,
      edit: { changes: { [proj.uri!]: [edit.edit] } },
    };
  }
  return {
    title: `Switch the composite to '${to}' (setting lrpLens.composite)`,
    kind: CodeActionKind.QuickFix,
    diagnostics: [d],
    isPreferred: true,
    command: { title: 'Set composite', command: SET_COMPOSITE_COMMAND, arguments: [to] },
  };
}

/**
 * What the server answers when a client sends one of the client's own commands back (workspace/
 * executeCommand: a plain LSP client such as Neovim that does not implement it): what to do instead.
 * Undefined for a command that is not ours.
 */
export function clientCommandFallback(command: string): string | undefined {
  switch (command) {
    case ADD_DATA_COMMAND:
      return 'LRP Lens: "Add data" opens a form in the VS Code extension. In this editor, add an entry for the model to lrp-lens.json (docs/lrp-lens-json.md; `lrp-lens data info FILE` lists a data file\'s variables).';
    case SHOW_PANEL_COMMAND:
    case EXPLAIN_COMMAND:
      return 'LRP Lens: the heat-map panel is part of the VS Code extension. In this editor, run `lrp-lens explain MODEL --data FILE` (or `lrp-lens check`) in a terminal.';
    case SET_COMPOSITE_COMMAND:
      return 'LRP Lens: set the composite in the lrpLens.composite setting of this editor, or in the model\'s lrp-lens.json entry ("explain": {"composite": ...}).';
    default:
      return undefined;
  }
}

/**
 * Set models[i].explain.composite for the project entry of `modelFile`: replace the value, or add the
 * key (and the explain object) to the entry. Undefined when the file has no entry for the model.
 */
export function compositeEdit(text: string, composite: string, projectFile: string, modelFile: string): { edit: TextEdit; entry: string } | undefined {
  const { project } = parseProject(text, projectFile);
  if (!project) return undefined;
  let entry;
  try {
    entry = findEntry(project, modelFile);
  } catch {
    return undefined;
  }
  const loc = locateJson(text);
  if (loc.error) return undefined;
  const doc = TextDocument.create('file:///lrp-lens.json', 'json', 0, text);
  const i = entry.index;
  const value = JSON.stringify(composite);
  const replace = (r: [number, number]) => ({ range: { start: doc.positionAt(r[0]), end: doc.positionAt(r[1]) }, newText: value });
  const insertInto = (obj: [number, number], member: string) => {
    const empty = !loc.entries.some((e) => e.key && e.value[0] > obj[0] && e.value[1] < obj[1]);
    const at = doc.positionAt(obj[0] + 1);
    return { range: { start: at, end: at }, newText: ` ${member}${empty ? ' ' : ','}` };
  };
  const existing = loc.find(['models', i, 'explain', 'composite']);
  if (existing) return { edit: replace(existing.value), entry: entry.name };
  const explain = loc.find(['models', i, 'explain']);
  if (explain && text[explain.value[0]] === '{') return { edit: insertInto(explain.value, `"composite": ${value}`), entry: entry.name };
  const obj = loc.find(['models', i]);
  if (!obj || text[obj.value[0]] !== '{') return undefined;
  return { edit: insertInto(obj.value, `"explain": { "composite": ${value} }`), entry: entry.name };
}
