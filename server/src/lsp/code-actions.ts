/**
 * Quick fixes where the remedy is mechanical: switching the composite (the model's entry in
 * lrp-lens.json when it has one, else the lrpLens.composite setting through a client command).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { findEntry, parseProject } from '../core/data/project.js';
import { CodeActionKind, type CodeAction, type Diagnostic, type TextEdit } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { LensSettings } from '../protocol.js';
import type { CompositeName } from '../core/names.js';
import { SOURCE } from './convert.js';
import { locateJson } from './json-paths.js';

/** Findings whose remedy is another composite, and which one. */
export const COMPOSITE_REMEDIES: Record<string, CompositeName> = {
  // z+ chain: class-insensitive maps; gamma on the upper layers keeps them class-specific.
  LRP112: 'epsilon-gamma-box',
  // Negative relevance under z+ everywhere: epsilon-gamma-box treats the first layer with ZBox.
  LRP205: 'epsilon-gamma-box',
};

/** Client command that sets a setting (the VS Code client implements it; other clients see a plain command). */
export const SET_COMPOSITE_COMMAND = 'lrpLens.setComposite';

export interface CodeActionContext {
  roots: string[];
  /** Text of the open document the actions are for, when open. */
  projectText?: string;
  settings: LensSettings;
}

export function codeActionsFor(uri: string, diagnostics: Diagnostic[], ctx: CodeActionContext): CodeAction[] {
  const actions: CodeAction[] = [];
  const modelFile = uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
  for (const d of diagnostics) {
    if (d.source !== SOURCE || typeof d.code !== 'string') continue;
    const data = (d.data ?? {}) as { finding?: Record<string, unknown> };
    const suggested = typeof data.finding?.suggestedComposite === 'string' ? (data.finding.suggestedComposite as string) : COMPOSITE_REMEDIES[d.code];
    if (!suggested) continue;
    const project = ctx.roots.map((r) => join(r, 'lrp-lens.json')).find((p) => existsSync(p));
    const projectUri = project ? pathToFileURL(project).href : undefined;
    const text = project ? (projectUri === uri && ctx.projectText !== undefined ? ctx.projectText : readFileSync(project, 'utf8')) : undefined;
    const edit = project && text !== undefined && modelFile ? compositeEdit(text, suggested, project, modelFile) : undefined;
    if (edit) {
      actions.push({
        title: `Switch the composite of '${edit.entry}' to '${suggested}' in lrp-lens.json`,
        kind: CodeActionKind.QuickFix,
        diagnostics: [d],
        isPreferred: true,
        edit: { changes: { [projectUri!]: [edit.edit] } },
      });
    } else if (ctx.settings.composite !== suggested) {
      actions.push({
        title: `Switch the composite to '${suggested}' (setting lrpLens.composite)`,
        kind: CodeActionKind.QuickFix,
        diagnostics: [d],
        isPreferred: true,
        command: { title: 'Set composite', command: SET_COMPOSITE_COMMAND, arguments: [suggested] },
      });
    }
  }
  return actions;
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
