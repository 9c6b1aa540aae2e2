/**
 * Open documents: hover on a layer of a JSON model file, quick fixes for findings, and lrp-lens.json
 * validated as it is typed (not only when saved).
 */
import { basename } from 'node:path';
import { MessageType, ShowMessageNotification, type CodeAction, type CodeActionParams, type ExecuteCommandParams, type Hover, type HoverParams, type TextDocumentChangeEvent } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { clientCommandFallback, codeActionsFor } from '../code-actions.js';
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
  const path = pathOfUri(uri);
  return codeActionsFor(uri, p.context.diagnostics, {
    roots: [...state.roots],
    projectText: state.documents.get(uri)?.getText(),
    settings: state.settings,
    projectFileFor: (file) => state.projectFileFor(file),
    isModel: path !== undefined && state.models.has(path),
    only: p.context.only,
  });
}

/** A client command sent back by a client that does not implement it (Neovim): say what to do instead. */
export function executeCommand(state: ServerState, p: ExecuteCommandParams): null {
  const message = clientCommandFallback(p.command);
  // A notification, not window/showMessageRequest: a plain client need not answer it.
  if (message) void state.connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Info, message });
  return null;
}

export function didChangeContent(state: ServerState, e: TextDocumentChangeEvent<TextDocument>): void {
  if (!e.document.uri.startsWith('file:') || basename(e.document.uri) !== PROJECT_FILE) return;
  const file = pathOfUri(e.document.uri);
  if (!file) return;
  state.debounce.run(file, 300, () => void validateProject(state, file, e.document.getText()));
}
