/** The Data set tab: class-mean relevance maps, mean |R| over all samples and the table of samples. */
import { formatValue, relevanceLimits } from '../../server/src/core/render/colormap.js';
import { MapCanvas, describeCell } from './heatmap.js';
import { drawColorbar } from './charts.js';
import { classMeans, mapSummary, meanMap } from './maps.js';
import { $ } from './dom.js';
import { panel, className, sampleIndex } from './state.js';
import type { Shown } from './decode.js';
import { drawFor, limitsFor } from './map-draw.js';

export const mapMeanAbs = new MapCanvas($('boxMeanAbs'), 'Mean absolute relevance over all samples', 300);
let classCanvases: MapCanvas[] = [];

/** The class-mean maps now on the tab (for overlay changes). */
export const classMaps = (): MapCanvas[] => classCanvases;

/** onPick: a sample's link in the table was clicked. */
export function renderDataset(onPick: (k: number) => void): void {
  const s = panel.main;
  const tbody = $('samplesTable').querySelector('tbody')!;
  $('classMeans').textContent = '';
  classCanvases = [];
  tbody.textContent = '';
  if (!s) return;
  renderClassMeans(s);
  renderMeanAbs(s);
  s.rel.maps.forEach((m, k) => tbody.appendChild(sampleRow(s, m, k, onPick)));
}

function renderClassMeans(s: Shown): void {
  const host = $('classMeans');
  const means = classMeans(s.rel.maps, s.result.target);
  const lim = limitsFor(means.map((m) => m.map));
  for (const m of means) {
    const fig = document.createElement('figure');
    const cap = document.createElement('figcaption');
    cap.textContent = `Class ${className(s, m.cls)} · mean of ${m.count} sample${m.count === 1 ? '' : 's'}`;
    fig.appendChild(cap);
    const box = document.createElement('div');
    box.className = 'mapbox';
    fig.appendChild(box);
    host.appendChild(fig);
    const mc = new MapCanvas(box, `Mean relevance of class ${m.cls} over ${m.count} samples`, 220);
    mc.onCell = (info) => { $('readout').textContent = info ? describeCell(info) : ''; };
    mc.set(drawFor(s, { mode: 'relevance', relevance: m.map, relLimits: lim }));
    classCanvases.push(mc);
  }
}

function renderMeanAbs(s: Shown): void {
  const meanAbs = meanMap(s.rel.maps, true);
  const al = relevanceLimits(meanAbs);
  mapMeanAbs.onLayout = (h) => drawColorbar($('barMeanAbs'), al, `mean |R| (${s.init} init)`, h);
  mapMeanAbs.set(drawFor(s, { mode: 'relevance', relevance: meanAbs, relLimits: al }));
  drawColorbar($('barMeanAbs'), al, `mean |R| (${s.init} init)`, mapMeanAbs.canvas.clientHeight || 240);
}

function sampleRow(s: Shown, m: Float32Array, k: number, onPick: (k: number) => void): HTMLTableRowElement {
  const tr = document.createElement('tr');
  if (k === sampleIndex(s)) tr.className = 'selected';
  const out = s.outputs ? Array.from(s.outputs.data.subarray(k * s.outputs.classes, (k + 1) * s.outputs.classes)) : [];
  const pred = out.length ? out.indexOf(Math.max(...out)) : undefined;
  const btn = document.createElement('button');
  btn.className = 'link';
  btn.textContent = `#${s.result.samples[k] ?? k}`;
  btn.setAttribute('aria-label', `Show sample ${s.result.samples[k] ?? k}`);
  btn.addEventListener('click', () => onPick(k));
  const label = s.result.labels?.[k];
  const cells: (string | HTMLElement)[] = [
    btn, s.result.times?.[k] ?? '', label === undefined ? '' : className(s, label), className(s, s.result.target[k]),
    pred === undefined ? '' : className(s, pred), out.map((v) => formatValue(v)).join(', '), formatValue(mapSummary(m, s.rel.width).sum),
  ];
  for (const c of cells) {
    const td = document.createElement('td');
    td.append(c);
    tr.appendChild(td);
  }
  return tr;
}
