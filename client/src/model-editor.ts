/**
 * The read-only viewer for binary model files (.h5, .keras, .onnx): the architecture table with the
 * findings per layer, from the server's analysis, and a button to explain the model. The page is
 * built here as escaped HTML; its one script (with this page's nonce) only posts button clicks back.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { Method, type FindingSummary, type ListModelsResult, type ModelSummary, type StatusParams } from '../../server/src/protocol.js';
import { distinctiveName, modelLabel } from './model-label.js';

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
    const render = async () => {
      const { models } = await this.client().sendRequest<ListModelsResult>(Method.listModels, {});
      // A SavedModel's saved_model.pb opens the folder's model (the folder is the model).
      const savedModelDir = /[/\\]saved_model\.pb$/.test(document.uri.fsPath) ? document.uri.fsPath.replace(/[/\\]saved_model\.pb$/, '') : undefined;
      const model = models.find((m) => m.file === document.uri.fsPath || m.uri === document.uri.toString() || (savedModelDir !== undefined && m.file === savedModelDir));
      // Only when this model's analysis changed (setting the html reloads the page).
      const key = JSON.stringify(model ?? null);
      if (key === shown) return;
      shown = key;
      panel.webview.html = modelPage(model, document.uri, vscode.workspace.isTrusted);
    };
    await render();
    // Re-render when the analysis finishes or changes (the server sends a status after each).
    const sub = this.onStatus(() => {
      if (panel.visible) void render();
    });
    panel.onDidDispose(() => sub.dispose());
    panel.webview.onDidReceiveMessage((m: { type?: string; code?: string }) => {
      if (m?.type === 'explain') void vscode.commands.executeCommand('lrpLens.explainModel', document.uri);
      else if (m?.type === 'docs' && typeof m.code === 'string' && /^LRP\d{3}$/.test(m.code)) void vscode.commands.executeCommand('lrpLens.openFindingDocs', m.code);
    });
  }
}

const esc = (s: unknown) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const shape = (s: (number | null)[]) => `(${s.map((d) => (d === null ? 'None' : d)).join(', ')})`;

export function modelPage(model: ModelSummary | undefined, uri: vscode.Uri, trusted: boolean): string {
  const nonce = randomBytes(16).toString('hex');
  const csp = `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; img-src 'none'; connect-src 'none'; frame-src 'none'; form-action 'none'; base-uri 'none'`;
  let body: string;
  if (!model || model.state === 'pending') body = `<p>Analyzing ${esc(vscode.workspace.asRelativePath(uri))}…</p>`;
  else if (model.state === 'error') {
    body = `<h1>${esc(vscode.workspace.asRelativePath(uri))}</h1><p class="error">This model did not load: <b>${esc(model.error?.code)}</b>: ${esc(model.error?.message)}${model.error?.layer ? ` (layer ${esc(model.error.layer)})` : ''}</p>${model.error?.hint ? `<p>What to do: ${esc(model.error.hint)}</p>` : ''}`;
  } else {
    const byLayer = new Map<number, FindingSummary[]>();
    for (const f of model.findings) if (f.layer) byLayer.set(f.layer.index, [...(byLayer.get(f.layer.index) ?? []), f]);
    const general = model.findings.filter((f) => !f.layer);
    const rows = model.layers
      .map((l) => {
        const fs = byLayer.get(l.index) ?? [];
        const cells = fs.map((f) => `<button class="code ${esc(f.severity)}" data-code="${esc(f.code)}" title="${esc(f.message)}">${esc(f.code)}</button>`).join(' ');
        return `<tr><td>${l.index}</td><td>${esc(l.name)}</td><td>${esc(l.className)}</td><td>${esc(l.detail)}</td><td>${esc(shape(l.outputShape))}</td><td class="num">${l.params.toLocaleString('en-US')}</td><td>${esc(l.activation === 'linear' ? '' : l.activation)}</td><td>${cells}</td></tr>`;
      })
      .join('\n');
    body = `
<h1>${esc(modelLabel(model).label)} <small>${distinctiveName(model.name, model.file) ? `"${esc(model.name)}" · ` : ''}${esc(model.format?.name ?? '')} ${esc(model.format?.version ?? '')}${model.format?.producer ? ` · ${esc(model.format.producer)}` : ''}</small></h1>
<p>${esc(vscode.workspace.asRelativePath(uri))} · input ${model.inputs.map((i) => `${esc(i.name)} ${esc(shape(i.shape))}`).join(', ')} · output ${model.outputs.map((o) => esc(shape(o.shape))).join(', ')} · ${model.totalParams.toLocaleString('en-US')} parameters · ${model.findings.length} finding(s)</p>
<p><button id="explain" ${trusted ? '' : 'disabled title="Trust this workspace to explain models"'}>Explain this model…</button></p>
${general.length ? `<ul>${general.map((f) => `<li><button class="code ${esc(f.severity)}" data-code="${esc(f.code)}">${esc(f.code)}</button> ${esc(f.message)}</li>`).join('')}</ul>` : ''}
<table>
<thead><tr><th>#</th><th>Layer</th><th>Class</th><th>Parameters</th><th>Output shape</th><th>Weights</th><th>Activation</th><th>Findings</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<ul class="findings">${model.findings
      .filter((f) => f.layer)
      .map((f) => `<li><button class="code ${esc(f.severity)}" data-code="${esc(f.code)}">${esc(f.code)}</button> <b>${esc(f.layer!.name)}</b>: ${esc(f.message)} <i>Remedy:</i> ${esc(f.remedy)}</li>`)
      .join('')}</ul>`;
  }
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>LRP Lens model</title>
<style nonce="${nonce}">
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 1em; }
h1 small { font-weight: normal; color: var(--vscode-descriptionForeground); font-size: 60%; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 2px 8px; border-bottom: 1px solid var(--vscode-panel-border); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
button { background: var(--vscode-button-background); color: var(--vscode-button-foreground); border: none; padding: 4px 10px; cursor: pointer; }
button.code { padding: 0 4px; font-size: 90%; }
button.code.error { background: var(--vscode-editorError-foreground); }
button.code.warning { background: var(--vscode-editorWarning-foreground); color: var(--vscode-editor-background); }
button.code.information, button.code.hint { background: var(--vscode-editorInfo-foreground); color: var(--vscode-editor-background); }
.error { color: var(--vscode-errorForeground); }
.findings li { margin: 4px 0; }
</style></head>
<body>${body}
<script nonce="${nonce}">
const vscode = acquireVsCodeApi();
document.getElementById('explain')?.addEventListener('click', () => vscode.postMessage({ type: 'explain' }));
for (const b of document.querySelectorAll('button.code')) b.addEventListener('click', () => vscode.postMessage({ type: 'docs', code: b.dataset.code }));
</script>
</body></html>`;
}
