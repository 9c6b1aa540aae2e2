/**
 * The data form's DOM: built once into a section above the tabs, filled from the draft (data-form.ts)
 * on every change, with each plan problem under the control it names, the "fits" line and the preview
 * map (the panel's MapCanvas: a diverging colormap centred on 0 for anomalies, the units on the bar).
 */
import land from 'world-atlas/land-110m.json' with { type: 'json' };
import { formatValue, inputLimits, relevanceLimits } from '../../server/src/core/render/colormap.js';
import { geoFrame } from '../../server/src/core/render/geo.js';
import type { DataDescription, EntryDraft, PlanInputResult } from '../../server/src/protocol.js';
import { MapCanvas, type MapDraw } from './heatmap.js';
import { drawColorbar } from './charts.js';
import { decodeBytes, decodeFloat32 } from './messages.js';
import {
  applyChange, axisOf, choicesOf, fitLine, problemsByField, stackable, variableInfo, yearsOf,
  type Change, type FieldId, type Feed, type Standardize,
} from './data-form.js';

/** What the view asks of the request layer. */
export interface DataFormActions {
  /** The draft changed: plan it (debounced by the caller). */
  changed(entry: EntryDraft): void;
  explain(): void;
  save(): void;
  close(): void;
}

export interface FormView {
  description: DataDescription;
  entry: EntryDraft;
  plan?: PlanInputResult;
  /** Where Save wrote the entry. */
  savedTo?: string;
}

type El = HTMLElement & { value: string; checked: boolean; disabled: boolean };

const FEEDS: [Feed, string][] = [
  ['grid', 'Grid as image (lat x lon)'],
  ['ocean', 'Ocean cells only, flattened (MLP)'],
  ['flat', 'All cells, flattened'],
  ['sequence', 'Column by column, a sequence (recurrent models)'],
];
const STANDARDIZE: [Standardize, string][] = [
  ['none', 'None (values as stored)'],
  ['zscore', 'z-score: (x - mean) / std'],
  ['monthly', 'Monthly anomalies (base period)'],
  ['mean', 'Anomalies from the mean over time'],
];

let root: HTMLElement | undefined;
let preview: MapCanvas | undefined;
let acts: DataFormActions;
let view: FormView | undefined;

function el<K extends string>(tag: K, attrs: Record<string, string> = {}, text?: string): El {
  const e = document.createElement(tag) as unknown as El;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function field(id: FieldId | string, label: string, control: HTMLElement, cls = ''): HTMLElement {
  const f = el('div', { class: `field ${cls}`.trim(), 'data-field': id });
  const l = el('vscode-label', { for: control.id }, label);
  f.append(l, control, el('p', { class: 'problem', id: `dfProblem-${id}`, role: 'alert' }));
  return f;
}

function select(id: string, label: string): El {
  return el('vscode-single-select', { id, 'aria-label': label });
}

function text(id: string, label: string, placeholder = ''): El {
  return el('vscode-textfield', { id, 'aria-label': label, placeholder });
}

function options(sel: El, values: [string, string][], selected: string | undefined): void {
  sel.textContent = '';
  for (const [v, t] of values) {
    const o = el('vscode-option', { value: v }, t);
    if (v === selected) o.setAttribute('selected', '');
    sel.appendChild(o);
  }
  if (selected !== undefined && values.some(([v]) => v === selected)) sel.value = selected;
}

const $f = (id: string) => root!.querySelector<El>(`#${id}`)!;

/** Builds the form (hidden) above the tabs; once. */
export function mountDataForm(actions: DataFormActions): void {
  acts = actions;
  if (root) return;
  root = el('section', { id: 'dataForm', class: 'data-form', 'aria-label': 'Data for the model', hidden: '' });
  const head = el('div', { class: 'row' });
  head.append(el('h2', { id: 'dfTitle' }, 'Data'), el('span', { id: 'dfFile', class: 'summary' }));
  const grid = el('div', { class: 'controls df-grid' });
  grid.append(
    field('variable', 'Variable', select('dfVariable', 'Variable'), 'wide'),
    field('channels', 'Stack as channels', el('div', { id: 'dfChannels', class: 'inline-row' }), 'wide'),
    field('time', 'Time range', (() => { const r = el('div', { class: 'inline-row', id: 'dfTime' }); r.append(select('dfTimeStart', 'First time step'), select('dfTimeEnd', 'Last time step'), text('dfTimeStartIdx', 'First index'), text('dfTimeEndIdx', 'Stop index (exclusive)')); return r; })(), 'wide'),
    field('level', 'Level', select('dfLevel', 'Level')),
    field('standardize', 'Standardization', (() => { const r = el('div', { class: 'inline-row', id: 'dfStd' }); r.append(select('dfStandardize', 'Standardization'), select('dfPeriodStart', 'Base period from'), select('dfPeriodEnd', 'Base period to'), text('dfMean', 'Mean', 'mean'), text('dfStdDev', 'Std', 'std')); return r; })(), 'wide'),
    field('clip', 'Cap to range', (() => { const r = el('div', { class: 'inline-row', id: 'dfClip' }); r.append(text('dfClipLo', 'Lowest value', 'low'), text('dfClipHi', 'Highest value', 'high')); return r; })()),
    field('mask', 'Missing cells', el('vscode-checkbox', { id: 'dfMask' }, 'Mask missing (land)')),
    field('fill', 'Fill value', text('dfFill', 'Value for missing cells', '0'), 'narrow'),
    field('wrapLon', 'Wrap longitude', text('dfWrap', 'Columns copied on each side', '0'), 'narrow'),
    field('coarsen', 'Coarsen by', text('dfCoarsen', 'Coarsening factor', '1'), 'narrow'),
    field('feed', 'Feeds the model as', (() => { const r = el('div', { class: 'inline-row', id: 'dfFeedRow' }); r.append(select('dfFeed', 'How the field feeds the model'), select('dfSeqTime', 'Sequence time axis'), el('vscode-checkbox', { id: 'dfSeqReverse' }, 'reverse')); return r; })(), 'wide'),
  );
  const fit = el('p', { id: 'dfFit', class: 'status', role: 'status', 'aria-live': 'polite' });
  const general = el('p', { class: 'problem', id: 'dfProblem-general', role: 'alert' });
  const notes = el('ul', { id: 'dfNotes', class: 'summary' });
  const maps = el('div', { class: 'maps', id: 'dfPreviewMaps' });
  const fig = el('figure', { id: 'dfPreviewFig' });
  fig.append(el('figcaption', { id: 'dfPreviewCap' }, 'Input preview'));
  const box = el('div', { class: 'mapbox', id: 'dfPreviewBox' });
  fig.appendChild(box);
  // The preview's canvases are made when there is a preview (a panel without the form has none).
  maps.appendChild(fig);
  const buttons = el('div', { class: 'buttons' });
  buttons.append(el('vscode-button', { id: 'dfExplain' }, 'Explain'), el('vscode-button', { id: 'dfSave', secondary: '' }, 'Save to lrp-lens.json'), el('vscode-button', { id: 'dfClose', secondary: '' }, 'Close'));
  root.append(head, grid, fit, general, buttons, notes, maps);
  document.getElementById('tabs')!.before(root);
  bind();
}

function bind(): void {
  const change = (c: Change) => { if (!view) return; view.entry = applyChange(view.entry, view.description, c); fill(); acts.changed(view.entry); };
  const onChange = (id: string, fn: (e: El) => void) => $f(id).addEventListener('change', (ev) => fn(ev.currentTarget as El));
  const numOf = (s: string): number | undefined => { const t = s.trim(); const n = Number(t); return t !== '' && Number.isFinite(n) ? n : undefined; };
  onChange('dfVariable', (e) => change({ key: 'variable', value: e.value }));
  onChange('dfTimeStart', (e) => change({ key: 'timeStart', value: e.value }));
  onChange('dfTimeEnd', (e) => change({ key: 'timeEnd', value: e.value }));
  onChange('dfTimeStartIdx', (e) => change({ key: 'timeStart', value: e.value.trim() }));
  onChange('dfTimeEndIdx', (e) => change({ key: 'timeEnd', value: e.value.trim() }));
  onChange('dfLevel', (e) => change({ key: 'level', value: e.value === '' ? undefined : Number(e.value) }));
  onChange('dfStandardize', (e) => change({ key: 'standardize', value: e.value as Standardize }));
  onChange('dfPeriodStart', (e) => change({ key: 'periodStart', value: Number(e.value) }));
  onChange('dfPeriodEnd', (e) => change({ key: 'periodEnd', value: Number(e.value) }));
  onChange('dfMean', (e) => change({ key: 'mean', value: numOf(e.value) }));
  onChange('dfStdDev', (e) => change({ key: 'std', value: numOf(e.value) }));
  const clip = () => { const lo = numOf($f('dfClipLo').value); const hi = numOf($f('dfClipHi').value); change({ key: 'clip', value: lo !== undefined && hi !== undefined ? [lo, hi] : undefined }); };
  onChange('dfClipLo', clip);
  onChange('dfClipHi', clip);
  onChange('dfMask', (e) => change({ key: 'maskMissing', value: e.checked }));
  onChange('dfFill', (e) => { const n = numOf(e.value); if (n !== undefined) change({ key: 'fillValue', value: n }); });
  onChange('dfWrap', (e) => { const n = numOf(e.value); if (n !== undefined && Number.isInteger(n) && n >= 0) change({ key: 'wrapLon', value: n }); });
  onChange('dfCoarsen', (e) => { const n = numOf(e.value); if (n !== undefined && Number.isInteger(n) && n >= 1) change({ key: 'coarsen', value: n }); });
  onChange('dfFeed', (e) => change({ key: 'feed', value: e.value as Feed }));
  onChange('dfSeqTime', (e) => change({ key: 'seqTime', value: e.value }));
  onChange('dfSeqReverse', (e) => change({ key: 'seqReverse', value: e.checked }));
  $f('dfChannels').addEventListener('change', () => {
    const picked = Array.from($f('dfChannels').querySelectorAll<El>('vscode-checkbox')).filter((c) => c.checked).map((c) => c.getAttribute('value')!);
    change({ key: 'channels', value: picked });
  });
  $f('dfExplain').addEventListener('click', () => acts.explain());
  $f('dfSave').addEventListener('click', () => acts.save());
  $f('dfClose').addEventListener('click', () => acts.close());
}

/** Show the form for a described file (or hide it with undefined). */
export function showDataForm(v: FormView | undefined): void {
  view = v;
  if (!root) return;
  root.hidden = !v;
  if (!v) return;
  $f('dfFile').textContent = v.description.file;
  const notes = $f('dfNotes');
  notes.textContent = '';
  for (const n of v.description.notes) notes.appendChild(el('li', {}, n));
  fill();
  showPlan(v.plan);
}

/** The controls from the draft (after every change: one control may change others, e.g. feed and mask). */
function fill(): void {
  if (!view) return;
  const d = view.description;
  const c = choicesOf(view.entry, d);
  const label = (name: string) => { const v = variableInfo(d, name); return `${name}${v?.units ? ` (${v.units})` : ''}${v?.longName ? `: ${v.longName}` : ''} [${v?.dims.join(', ') ?? ''}]`; };
  options($f('dfVariable'), d.variables.map((v) => [v.name, label(v.name)]), c.variable);
  const ch = $f('dfChannels');
  ch.textContent = '';
  const others = stackable(d, c.variable);
  for (const o of others) {
    const box = el('vscode-checkbox', { value: o.name }, o.name);
    box.checked = c.channels.includes(o.name);
    ch.appendChild(box);
  }
  if (!others.length) ch.appendChild(el('span', { class: 'summary' }, 'no other variable on the same grid'));
  const time = axisOf(d, 'time');
  const times = time?.times ?? [];
  const dated = times.length > 0;
  for (const id of ['dfTimeStart', 'dfTimeEnd']) $f(id).hidden = !dated;
  for (const id of ['dfTimeStartIdx', 'dfTimeEndIdx']) $f(id).hidden = dated || !time;
  if (dated) {
    const opts = times.map((t): [string, string] => [t, t.slice(0, 10)]);
    options($f('dfTimeStart'), opts, c.timeStart ?? times[0]);
    options($f('dfTimeEnd'), opts, c.timeEnd ?? times[times.length - 1]);
  } else {
    $f('dfTimeStartIdx').value = c.timeStart ?? '';
    $f('dfTimeEndIdx').value = c.timeEnd ?? '';
  }
  root!.querySelector<HTMLElement>('[data-field="time"]')!.hidden = !time;
  const level = axisOf(d, 'level');
  root!.querySelector<HTMLElement>('[data-field="level"]')!.hidden = !level;
  if (level) {
    const vals: [string, string][] = Array.from({ length: level.size }, (_, i) => [String(i), typeof level.first === 'number' && level.step !== undefined ? `${level.first + i * level.step}${level.units ? ` ${level.units}` : ''}` : `index ${i}`]);
    options($f('dfLevel'), [['', 'all levels (a dimension)'], ...vals], c.level === undefined ? '' : String(c.level));
  }
  options($f('dfStandardize'), STANDARDIZE, c.standardize);
  const years = yearsOf(d).map((y): [string, string] => [String(y), String(y)]);
  $f('dfPeriodStart').hidden = $f('dfPeriodEnd').hidden = c.standardize !== 'monthly';
  options($f('dfPeriodStart'), years, String(c.periodStart ?? years[0]?.[0]));
  options($f('dfPeriodEnd'), years, String(c.periodEnd ?? years[years.length - 1]?.[0]));
  $f('dfMean').hidden = $f('dfStdDev').hidden = c.standardize !== 'zscore';
  $f('dfMean').value = c.mean !== undefined ? String(c.mean) : '';
  $f('dfStdDev').value = c.std !== undefined ? String(c.std) : '';
  $f('dfClipLo').value = c.clip ? String(c.clip[0]) : '';
  $f('dfClipHi').value = c.clip ? String(c.clip[1]) : '';
  $f('dfMask').checked = c.maskMissing;
  $f('dfFill').value = String(c.fillValue);
  $f('dfWrap').value = String(c.wrapLon);
  $f('dfCoarsen').value = String(c.coarsen);
  options($f('dfFeed'), FEEDS, c.feed);
  const dims = variableInfo(d, c.variable)?.dims.filter((x) => x !== time?.name) ?? [];
  $f('dfSeqTime').hidden = $f('dfSeqReverse').hidden = c.feed !== 'sequence';
  options($f('dfSeqTime'), dims.map((x) => [x, `time runs along ${x}`]), c.seqTime);
  $f('dfSeqReverse').checked = c.seqReverse;
}

/** The plan: problems under their controls, the fits line, the preview map. */
export function showPlan(plan: PlanInputResult | undefined): void {
  if (!root || !view) return;
  view.plan = plan;
  root.querySelectorAll<HTMLElement>('.problem').forEach((p) => { p.textContent = ''; });
  root.querySelectorAll('.field.has-problem').forEach((f) => f.classList.remove('has-problem'));
  const fit = $f('dfFit');
  if (!plan) { fit.textContent = 'Checking the choices against the model…'; return; }
  fit.textContent = fitLine(plan) + (view.savedTo ? ` · saved to ${view.savedTo}` : '');
  fit.classList.toggle('error', !plan.fits);
  for (const [f, ps] of problemsByField(plan.problems, view.description)) {
    const box = root.querySelector<HTMLElement>(`#dfProblem-${f}`);
    if (!box) continue;
    box.textContent = ps.map((p) => `${p.severity === 'error' ? '✗' : '⚠'} ${p.message}`).join(' ');
    box.closest('.field')?.classList.add('has-problem');
  }
  $<HTMLElement>('dfExplain').toggleAttribute('disabled', !plan.fits);
  drawPreview(plan);
}

const $ = <T extends HTMLElement>(id: string) => root!.querySelector<T>(`#${id}`)!;

function drawPreview(plan: PlanInputResult): void {
  const p = plan.preview;
  const fig = $('dfPreviewMaps');
  fig.hidden = !p;
  if (!p) return;
  if (!preview) {
    preview = new MapCanvas($('dfPreviewBox'), 'Preview of the model input', 360);
    fig.appendChild(el('canvas', { id: 'dfPreviewBar', class: 'colorbar', role: 'img', 'aria-label': 'Preview colour bar' }));
  }
  const shown = preview;
  const [h, w] = p.map.shape;
  const map = decodeFloat32(p.map);
  let mask = p.mask ? decodeBytes(p.mask) : undefined;
  if (mask && mask.length !== h * w) mask = undefined;
  const frame = p.coords && p.coords.lat.length === h && p.coords.lon.length === w ? geoFrame(p.coords) : undefined;
  const draw: MapDraw = {
    spec: p.diverging
      ? { width: w, height: h, mode: 'relevance', relevance: map, input: map, relLimits: relevanceLimits(map, { symmetric: true, mask }), mask, flipRows: frame?.flipRows }
      : { width: w, height: h, mode: 'input', input: map, inLimits: inputLimits(map, mask), mask, flipRows: frame?.flipRows },
    overlays: { hatch: true },
    geo: frame && p.coords ? { frame, topology: land, lat: p.coords.lat, lon: p.coords.lon } : undefined,
  };
  const lim = p.diverging ? draw.spec.relLimits! : draw.spec.inLimits!;
  const label = `${p.units ?? 'value'}${p.diverging ? ' (centred on 0)' : ''}`;
  $('dfPreviewCap').textContent = `Input preview · sample ${p.sample}${p.time ? ` (${p.time.slice(0, 10)})` : ''} · ${h}x${w}`;
  const bar = (ch: number) => drawColorbar($('dfPreviewBar') as HTMLCanvasElement, lim, label, ch, p.diverging ? 'diverging' : 'sequential');
  shown.onLayout = bar;
  shown.set(draw);
  bar(shown.canvas.clientHeight || 200);
  $('dfPreviewBar').setAttribute('aria-label', `Colour bar, ${label}: from ${formatValue(lim.vmin)} (${p.diverging ? 'blue' : 'dark'}) to ${formatValue(lim.vmax)} (${p.diverging ? 'red' : 'light'})`);
  document.body.dataset.previewDrawn = String(Number(document.body.dataset.previewDrawn ?? 0) + 1);
  document.body.dataset.previewKind = p.diverging ? 'diverging' : 'sequential';
}

/** The entry was written: say where; the following explains use it. */
export function showSaved(project: string): void {
  if (!view) return;
  view.savedTo = project;
  if (view.plan) showPlan(view.plan);
}

/** For tests: page coordinates of a cell's centre on the preview map. */
(window as unknown as Record<string, unknown>).__lrpDataForm = {
  cellCentre(row: number, col: number): [number, number] {
    const r = preview!.canvas.getBoundingClientRect();
    const [x, y] = preview!.cellCentre(row, col);
    return [r.left + x, r.top + y];
  },
};
