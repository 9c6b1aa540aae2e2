/**
 * "Without the artifact": each warning's remedy twin (core/artifacts/remedy-twins.ts) drawn under the
 * findings table: the model's mean |R| share per cell next to the twin's (the same weights with the
 * remedy applied: valid or circular padding, average pooling, another rule on the first layer), on one
 * scale, with the check's statistic on each. The twins come with the data check's findings.
 */
import { formatValue, sharedLimits } from '../../server/src/core/render/colormap.js';
import { MapCanvas } from './heatmap.js';
import { decodeFloat32, type RemedyTwinMaps } from './messages.js';
import { $ } from './dom.js';

/** Plot height cap (CSS px): two small maps under the table, not a second main view. */
const MAX_HEIGHT = 220;

/** The caption of one twin: what changed and the statistic on both maps. */
export function remedyCaption(t: RemedyTwinMaps): string {
  const f = (x: number): string => (Number.isFinite(x) ? formatValue(x) : 'n/a');
  return `${t.code}: the model as trained and its ${t.name} on the same samples, shared scale; ${t.statisticName}: ${f(t.statistic)} for the model, ${f(t.twinStatistic)} for the twin.`;
}

function mapFigure(parent: HTMLElement, title: string, label: string): MapCanvas {
  const fig = document.createElement('figure');
  const cap = document.createElement('figcaption');
  cap.textContent = title;
  fig.appendChild(cap);
  parent.appendChild(fig);
  return new MapCanvas(fig, label, MAX_HEIGHT);
}

/** Replaces the twins shown (none: the section is removed). */
export function renderRemedyTwins(twins: RemedyTwinMaps[]): void {
  document.getElementById('remedyTwins')?.remove();
  if (!twins.length) return;
  const box = document.createElement('section');
  box.id = 'remedyTwins';
  const h = document.createElement('h3');
  h.textContent = 'Without the artifact: remedy twins';
  box.appendChild(h);
  $('findingsTable').insertAdjacentElement('afterend', box);
  for (const t of twins) {
    const user = decodeFloat32(t.user), twin = decodeFloat32(t.twin);
    const row = document.createElement('div');
    row.className = 'maps';
    row.dataset.code = t.code;
    box.appendChild(row);
    const lim = sharedLimits([user, twin], { symmetric: true });
    const a = mapFigure(row, `as trained · ${formatValue(t.statistic)}`, `${t.code}: the model's mean |R| share`);
    const b = mapFigure(row, `${t.name} · ${formatValue(t.twinStatistic)}`, `${t.code}: the ${t.name}'s mean |R| share`);
    for (const [m, values] of [[a, user], [b, twin]] as const) m.set({ spec: { width: t.width, height: t.height, mode: 'relevance', relevance: values, relLimits: lim }, overlays: { hatch: false } });
    const p = document.createElement('p');
    p.className = 'caption';
    p.textContent = remedyCaption(t);
    box.appendChild(p);
  }
}
