/**
 * Open documents: hover on a layer of a JSON model file, quick fixes for findings, and lrp-lens.json
 * validated as it is typed (not only when saved).
 */
import { basename } from 'node:path';
import type { CodeAction, CodeActionParams, Hover, HoverParams, TextDocumentChangeEvent } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { codeActionsFor } from '../code-actions.js';
import { markdownHover } from '../convert.js';
import { layerAt, layerHover } from '../hover.js';
import { PROJECT_FILE } from '../project.js';
import type { ServerState } from '../state.js';
import { validateProject } from './diagnostics.js';
import { pathOfUri } from './files.js';

export function hover(state: ServerState, p: HoverParams): Hover | null {
  const path = pathOfUri(p.textDocument.uri);
  const entry = path ? state.models.get(path) : undefined;
  if (!entry || entry.summary.state !== 'ok') return null;
  const text = state.documents.get(p.textDocument.uri)?.getText() ?? entry.text;
  if (text === undefined) return null;
  const doc = TextDocument.create(p.textDocument.uri, 'json', 0, text);
  const layer = layerAt(entry.summary, doc.offsetAt(p.position));
  if (!layer) return null;
  return markdownHover(doc, layer.jsonRange!, layerHover(entry.summary, layer, entry.shares?.get(layer.name), state.docsHref));
}

export function codeAction(state: ServerState, p: CodeActionParams): CodeAction[] {
  const uri = p.textDocument.uri;
  return codeActionsFor(uri, p.context.diagnostics, { roots: [...state.roots], projectText: state.documents.get(uri)?.getText(), settings: state.settings });
}

export function didChangeContent(state: ServerState, e: TextDocumentChangeEvent<TextDocument>): void {
  if (!e.document.uri.startsWith('file:') || basename(e.document.uri) !== PROJECT_FILE) return;
  const file = pathOfUri(e.document.uri);
  if (!file) return;
  state.debounce.run(file, 300, () => void validateProject(state, file, e.document.getText()));
}
