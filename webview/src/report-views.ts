/** The Conservation tab (relevance sum per layer, chart and table) and the Findings table. */
import { formatValue } from '../../server/src/core/render/colormap.js';
import { drawConservation } from './charts.js';
import { $ } from './dom.js';
import { post } from './host.js';
import { panel } from './state.js';

export function renderConservation(): void {
  const s = panel.main;
  const tbody = $('conservationTable').querySelector('tbody')!;
  tbody.textContent = '';
  if (!s) return;
  const c = s.result.conservation;
  const mean = (a: number[]) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : NaN);
  const inSum = mean(c.inputRelevance);
  // Rows: the relevance sum at each layer's output, from the model output down, then at the input.
  // What a layer loses or gains (bias, BatchNorm, epsilon) is the next row's sum minus its own.
  const sums = c.perLayer && c.perLayer.length ? c.perLayer : [{ layer: 'output', sum: mean(c.outputRelevance) }];
  const rows = [...sums, { layer: 'input', sum: inSum }].map((r, i, all) => ({
    layer: r.layer, sum: r.sum, change: i + 1 < all.length ? all[i + 1].sum - r.sum : undefined,
  }));
  drawConservation($('conservationChart'), rows, mean(c.outputRelevance));
  for (const r of rows) {
    const tr = document.createElement('tr');
    for (const v of [r.layer, formatValue(r.sum), r.change === undefined ? '' : formatValue(r.change)]) { const td = document.createElement('td'); td.textContent = v; tr.appendChild(td); }
    tbody.appendChild(tr);
  }
  $('conservationSummary').textContent = `Mean over ${c.inputRelevance.length} samples: relevance in ${formatValue(mean(c.outputRelevance))}, at the input ${formatValue(inSum)}; largest relative error ${(c.maxRelativeError * 100).toFixed(2)} %.${c.perLayer ? ' Layers that lose or gain more than 0.5 % are drawn in the warning colour.' : ' The engine reported no per-layer sums.'}`;
  $('conservationChart').setAttribute('aria-label', `Relevance sum at each layer's output: ${rows.map((r) => `${r.layer} ${formatValue(r.sum)}`).join(', ')}`);
}

export function renderFindings(): void {
  const tbody = $('findingsTable').querySelector('tbody')!;
  tbody.textContent = '';
  for (const f of panel.findings) {
    const tr = document.createElement('tr');
    const code = document.createElement('button');
    code.className = 'link';
    code.textContent = f.code;
    code.setAttribute('aria-label', `${f.code}: open documentation`);
    code.addEventListener('click', () => post({ type: 'openDocs', url: f.docs }));
    const sev = document.createElement('span');
    sev.className = `sev-${f.severity}`;
    sev.textContent = f.severity;
    const cells: (string | HTMLElement)[] = [code, sev, f.layer ? `${f.layer.name} (#${f.layer.index})` : '', `${f.message} Remedy: ${f.remedy}`];
    for (const c of cells) { const td = document.createElement('td'); td.append(c); tr.appendChild(td); }
    tbody.appendChild(tr);
  }
}
