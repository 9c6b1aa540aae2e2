/**
 * The read-only viewer for binary model files (.h5, .keras, .onnx): the page (model-page.ts) from the
 * server's analysis, re-rendered as it changes, and its buttons' clicks run as commands: "Explain model",
 * or "Add data for this model..." where lrp-lens.json has no entry for it (a binary file has no text
 * document, so VS Code offers no quick fix on it: the viewer is where its user finds the data form).
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { Method, type ListModelsResult, type StatusParams } from '../../server/src/protocol.js';
import { modelPage } from './model-page.js';

export class ModelEditorProvider implements vscode.CustomReadonlyEditorProvider {
  static readonly viewType = 'lrpLens.modelViewer';

  constructor(
    private readonly client: () => LanguageClient,
    private readonly onStatus: vscode.Event<StatusParams>,
  ) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  async resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): Promise<void> {
    panel.webview.options = { enableScripts: true, enableCommandUris: false, localResourceRoots: [] };
    let shown: string | undefined;
    // The model as the server names it (a SavedModel's folder, not its saved_model.pb), for the commands.
    let modelUri: string = document.uri.toString();
    const render = async () => {
      const { models } = await this.client().sendRequest<ListModelsResult>(Method.listModels, {});
      // A SavedModel's saved_model.pb opens the folder's model (the folder is the model).
      const savedModelDir = /[/\\]saved_model\.pb$/.test(document.uri.fsPath) ? document.uri.fsPath.replace(/[/\\]saved_model\.pb$/, '') : undefined;
      const model = models.find((m) => m.file === document.uri.fsPath || m.uri === document.uri.toString() || (savedModelDir !== undefined && m.file === savedModelDir));
      if (model) modelUri = model.uri;
      // Only when this model's analysis changed (setting the html reloads the page).
      const key = JSON.stringify(model ?? null);
      if (key === shown) return;
      shown = key;
      panel.webview.html = modelPage(model, vscode.workspace.asRelativePath(document.uri), vscode.workspace.isTrusted);
    };
    await render();
    // Re-render when the analysis finishes or changes (the server sends a status after each).
    const sub = this.onStatus(() => {
      if (panel.visible) void render();
    });
    panel.onDidDispose(() => sub.dispose());
    panel.webview.onDidReceiveMessage((m: { type?: string; code?: string }) => {
      if (m?.type === 'explain') void vscode.commands.executeCommand('lrpLens.explainModel', document.uri);
      else if (m?.type === 'addData') void vscode.commands.executeCommand('lrpLens.addData', modelUri);
      else if (m?.type === 'docs' && typeof m.code === 'string' && /^LRP\d{3}$/.test(m.code)) void vscode.commands.executeCommand('lrpLens.openFindingDocs', m.code);
    });
  }
}

