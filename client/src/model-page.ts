/**
 * The model viewer's page (model-editor.ts shows it), as escaped HTML from the server's analysis: the
 * architecture table with the findings per layer, and what to do next: "Explain this model..." when
 * lrp-lens.json describes the model's data, else first "Add data for this model...". Its one script (with this page's nonce)
 * only posts button clicks back. No vscode import, so the page is tested as it is built.
 */
import { randomBytes } from 'node:crypto';
import type { FindingSummary, ModelSummary } from '../../server/src/protocol.js';
import { distinctiveName, modelLabel } from './model-label.js';

const esc = (s: unknown) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const shape = (s: (number | null)[]) => `(${s.map((d) => (d === null ? 'None' : d)).join(', ')})`;

/**
 * The next step: explain on the entry's data, or first add data (the data form writes the entry); the
 * explain button stays there too (it asks for a data file when the project has none).
 */
function actions(model: ModelSummary, trusted: boolean): string {
  const off = trusted ? '' : ' disabled title="Trust this workspace to explain models"';
  const explain = `<button id="explain"${model.dataEntry ? '' : ' class="secondary"'}${off}>Explain this model…</button>`;
  if (model.dataEntry) return `<p>${explain} <span class="note">data: entry "${esc(model.dataEntry)}" of lrp-lens.json</span></p>`;
  return `<p><button id="addData"${off}>Add data for this model…</button> ${explain} <span class="note">no lrp-lens.json entry describes its data yet: pick a data file and the form writes one</span></p>`;
}

export function modelPage(model: ModelSummary | undefined, path: string, trusted: boolean): string {
  const nonce = randomBytes(16).toString('hex');
  const csp = `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; img-src 'none'; connect-src 'none'; frame-src 'none'; form-action 'none'; base-uri 'none'`;
  let body: string;
  if (!model || model.state === 'pending') body = `<p>Analyzing ${esc(path)}…</p>`;
  else if (model.state === 'error') {
    body = `<h1>${esc(path)}</h1><p class="error">This model did not load: <b>${esc(model.error?.code)}</b>: ${esc(model.error?.message)}${model.error?.layer ? ` (layer ${esc(model.error.layer)})` : ''}</p>${model.error?.hint ? `<p>What to do: ${esc(model.error.hint)}</p>` : ''}`;
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
<p>${esc(path)} · input ${model.inputs.map((i) => `${esc(i.name)} ${esc(shape(i.shape))}`).join(', ')} · output ${model.outputs.map((o) => esc(shape(o.shape))).join(', ')} · ${model.totalParams.toLocaleString('en-US')} parameters · ${model.findings.length} finding(s)</p>
${actions(model, trusted)}
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
button.secondary { background: var(--vscode-button-secondaryBackground); color: var(--vscode-button-secondaryForeground); }
button.code.error { background: var(--vscode-editorError-foreground); }
button.code.warning { background: var(--vscode-editorWarning-foreground); color: var(--vscode-editor-background); }
button.code.information, button.code.hint { background: var(--vscode-editorInfo-foreground); color: var(--vscode-editor-background); }
.error { color: var(--vscode-errorForeground); }
.findings li { margin: 4px 0; }
.note { color: var(--vscode-descriptionForeground); }
</style></head>
<body>${body}
<script nonce="${nonce}">
const vscode = acquireVsCodeApi();
document.getElementById('explain')?.addEventListener('click', () => vscode.postMessage({ type: 'explain' }));
document.getElementById('addData')?.addEventListener('click', () => vscode.postMessage({ type: 'addData' }));
for (const b of document.querySelectorAll('button.code')) b.addEventListener('click', () => vscode.postMessage({ type: 'docs', code: b.dataset.code }));
</script>
</body></html>`;
}
