/**
 * The heat-map panel's page. Talks only to its host through postMessage (validated both ways); the host
 * forwards requests to the language server. State that should survive a reload goes to vscode.setState.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-radio/index.js';
import '@vscode-elements/elements/dist/vscode-radio-group/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import land from 'world-atlas/land-110m.json' with { type: 'json' };
import { inputLimits, relevanceLimits, sharedLimits, formatValue, type Limits } from '../../server/src/core/render/colormap.js';
import { geoFrame, type GeoFrame } from '../../server/src/core/render/geo.js';
import { isBaselineName, type BaselineName } from '../../server/src/core/names.js';
import { MapCanvas, describeCell, type MapOverlays, type MapDraw } from './heatmap.js';
import { drawColorbar, drawConservation } from './charts.js';
import { phases, resetPhases, timed } from './timing.js';
import {
  artifactShare, classMeans, correlation, mapSummary, meanMap, overlayGeometry, toMaps, unwrapBatch, unwrapColumns, type MapBatch,
} from './maps.js';
import {
  DEFAULT_STATE, decodeBytes, decodeFloat32, encodeBytes, encodeFloat32, parseToWebview,
  type CompareKind, type FindingSummary, type ModelSummary, type PanelExplainParams, type PanelResult,
  type PanelState, type PngRequest, type ToHost, type ToWebview,
} from './messages.js';

interface VsCodeApi {
  postMessage(m: unknown): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const post = (m: ToHost) => vscode.postMessage(m);

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
type ValueEl = HTMLElement & { value: string; disabled: boolean };
type CheckEl = HTMLElement & { checked: boolean; disabled: boolean };

/** A decoded result, ready to draw. */
interface Shown {
  result: PanelResult;
  rel: MapBatch;
  inp?: MapBatch;
  outputs?: { data: Float32Array; classes: number };
  mask?: Uint8Array;
  geo?: { frame: GeoFrame; lat: number[]; lon: number[] };
  /** How the output relevance was initialised, for the colour bar's units. */
  init: 'one-hot' | 'output';
}

let state: PanelState = { ...DEFAULT_STATE, ...((vscode.getState() as PanelState | undefined) ?? {}) };
let models: ModelSummary[] = [];
let main: Shown | undefined;
let compared: { shown: Shown; label: string; params: PanelExplainParams } | undefined;
let findings: FindingSummary[] = [];
const pending = new Map<string, { purpose: 'main' | 'compare'; key: string; label?: string; params: PanelExplainParams }>();
const cache = new Map<string, PanelResult>();
const CACHE_SIZE = 8;
let reqCounter = 0;
let compositeOptions: string[] = [];

// ---------------------------------------------------------------- maps
const mapInput = new MapCanvas($('boxInput'), 'Input field');
const mapRel = new MapCanvas($('boxRel'), 'Relevance heat map');
const mapMeanAbs = new MapCanvas($('boxMeanAbs'), 'Mean absolute relevance over all samples', 300);
const mapA = new MapCanvas($('boxA'), 'Comparison map A');
const mapB = new MapCanvas($('boxB'), 'Comparison map B');
let classCanvases: MapCanvas[] = [];

// Hovering one map of a pair moves the cursor on the other, so values can be read at the same cell.
function link(a: MapCanvas, b: MapCanvas | undefined, units: () => string | undefined): void {
  a.onCell = (info) => {
    $('readout').textContent = info ? describeCell(info, units()) : '';
    if (b && info) { b.cursor = [info.row, info.col]; b.redraw(); }
  };
}
link(mapInput, mapRel, () => main?.result.inputUnits);
link(mapRel, mapInput, () => main?.result.inputUnits);
link(mapA, mapB, () => undefined);
link(mapB, mapA, () => undefined);
mapA.onCell = (info) => {
  if (!info || !compared || !main) return;
  mapB.cursor = [info.row, info.col];
  mapB.redraw();
  const b = mapB.info(info.row, info.col);
  $('compareSummary').textContent = `${describeCell(info)} (A) · relevance ${formatValue(b.relevance ?? NaN)} (B)`;
};

// ---------------------------------------------------------------- decoding
function decode(result: PanelResult): Shown {
  const relData = decodeFloat32(result.relevance);
  // A flattened input (an MLP on a grid) is drawn through the grid the server gives for it.
  const g = result.grid;
  const fits = (n: number) => !!g && g.shape.reduce((a, b) => a * b, 1) * result.relevance.shape[0] === n;
  const shapeOf = (a: { shape: number[] }, n: number) => (g && fits(n) ? [a.shape[0], ...g.shape] : a.shape);
  const layout = g && fits(relData.length) ? g.layout : result.layout;
  let rel = toMaps(relData, shapeOf(result.relevance, relData.length), layout, 'sum');
  const inData = result.input ? decodeFloat32(result.input) : undefined;
  let inp = result.input && inData ? toMaps(inData, shapeOf(result.input, inData.length), layout, 'first') : undefined;
  let outputs: Shown['outputs'];
  if (result.outputs) outputs = { data: decodeFloat32(result.outputs), classes: result.outputs.shape[1] ?? 1 };
  let mask: Uint8Array | undefined;
  if (result.mask) {
    mask = decodeBytes(result.mask);
    if (mask.length !== rel.height * rel.width) mask = undefined;
  }
  let lon = result.coords?.lon;
  // The periodic wrap's copied columns: relevance folds back onto the cells they copy, the rest is cropped.
  const wrap = result.wrapLon ?? 0;
  if (wrap > 0 && rel.width > 2 * wrap) {
    if (mask) mask = unwrapColumns(mask, rel.height, rel.width, wrap, 'crop');
    if (lon && lon.length === rel.width) lon = lon.slice(wrap, lon.length - wrap);
    rel = unwrapBatch(rel, wrap, 'fold');
    if (inp) inp = unwrapBatch(inp, wrap, 'crop');
  }
  let geo: Shown['geo'];
  if (result.coords && lon && result.coords.lat.length === rel.height && lon.length === rel.width) {
    const frame = geoFrame({ lat: result.coords.lat, lon });
    if (frame) geo = { frame, lat: result.coords.lat, lon };
  }
  const outs = result.conservation.outputRelevance ?? [];
  const init = outs.length > 0 && outs.every((v) => Math.abs(v - 1) < 1e-6) ? 'one-hot' : 'output';
  return { result, rel, inp, outputs, mask, geo, init };
}

function unitsLabel(s: Shown): string {
  return s.init === 'one-hot' ? 'relevance (one-hot init: Σ R ≈ 1)' : 'relevance (output init: Σ R ≈ model output)';
}

// ---------------------------------------------------------------- drawing
function limitsFor(maps: Float32Array[], mask?: Uint8Array): Limits {
  const opts = { symmetric: state.symmetric, percentile: state.percentile, mask };
  return maps.length === 1 ? relevanceLimits(maps[0], opts) : sharedLimits(maps, opts);
}

function overlaysFor(): MapOverlays {
  const g = overlayGeometry(findings);
  return {
    band: state.overlays.border ? g.band : undefined,
    stride: state.overlays.stride ? g.stride : undefined,
    phase: g.phase,
    hatch: state.overlays.mask,
  };
}

function drawFor(s: Shown, spec: Omit<MapDraw['spec'], 'width' | 'height' | 'flipRows' | 'mask'>): MapDraw {
  return {
    spec: { width: s.rel.width, height: s.rel.height, flipRows: s.geo?.frame.flipRows, mask: s.mask, ...spec },
    overlays: overlaysFor(),
    geo: s.geo ? { ...s.geo, topology: land } : undefined,
  };
}

function sampleIndex(s: Shown): number {
  return Math.max(0, Math.min(s.rel.n - 1, state.sample));
}

function renderSample(): void {
  const s = main;
  if (!s) return;
  const k = sampleIndex(s);
  const rel = s.rel.maps[k];
  const inp = s.inp?.maps[k];
  const lim = timed('limits', () => limitsFor([rel], s.mask));
  const overlay = state.view === 'overlay' && !!inp;
  $('figInput').hidden = overlay || !inp;
  $('barInput').hidden = overlay || !inp;
  const sampleNo = `${s.result.samples[k] ?? k}${s.result.times?.[k] ? ` (${s.result.times[k]})` : ''}`;
  $('capRel').textContent = `${overlay ? 'Relevance over input' : 'Relevance'} · sample ${sampleNo} · class ${className(s, s.result.target[k])} · ${compositeName(s)}`;
  $('capInput').textContent = `Input · sample ${sampleNo}`;
  if (inp && !overlay) timed('inputMap', () => {
    const il = inputLimits(inp, s.mask);
    const bar = (h: number) => drawColorbar($('barInput'), il, `input${s.result.inputUnits ? ` (${s.result.inputUnits})` : ''}`, h, 'sequential');
    mapInput.onLayout = bar;
    mapInput.set(drawFor(s, { mode: 'input', input: inp, relevance: rel, inLimits: il }));
    bar(mapInput.canvas.clientHeight || 300);
  });
  mapRel.onLayout = (h) => drawColorbar($('barRel'), lim, unitsLabel(s), h);
  timed('relevanceMap', () => mapRel.set(drawFor(s, overlay
    ? { mode: 'overlay', input: inp, relevance: rel, relLimits: lim, inLimits: inputLimits(inp!, s.mask), opacity: state.opacity }
    : { mode: 'relevance', input: inp, relevance: rel, relLimits: lim })));
  drawColorbar($('barRel'), lim, unitsLabel(s), mapRel.canvas.clientHeight || 300);
  timed('summaries', () => { describeMap(s, rel, lim); renderArtifacts(s, rel); });
}

function describeMap(s: Shown, rel: Float32Array, lim: Limits): void {
  const m = mapSummary(rel, s.rel.width, s.mask ?? maskFromInput(s));
  const where = ([r, c]: [number, number]) => s.geo
    ? `row ${r}, col ${c} (${describeCell({ row: r, col: c, lat: s.geo.lat[r], lon: s.geo.lon[c] }).split(' · ')[1]})`
    : `row ${r}, col ${c}`;
  const text = `${s.rel.height} by ${s.rel.width} cells. Sum of relevance ${formatValue(m.sum)}; largest ${formatValue(m.max)} at ${where(m.maxAt)}; `
    + `smallest ${formatValue(m.min)} at ${where(m.minAt)}${s.mask ? ' (unmasked cells)' : ''}; ${(m.positiveShare * 100).toFixed(0)} % of |R| is positive. `
    + `Colour limits ${formatValue(lim.vmin)} to ${formatValue(lim.vmax)}${state.percentile < 100 ? ` (clipped at the ${state.percentile}th percentile)` : ''}.`;
  $('summary').textContent = text;
  // The canvas's text alternative: what the picture shows, for screen readers.
  mapRel.canvas.setAttribute('aria-label', `Relevance heat map. ${text}`);
  if (s.inp) mapInput.canvas.setAttribute('aria-label', `Input field, ${s.rel.height} by ${s.rel.width} cells`);
}

function findingText(codes: string[]): string {
  const f = findings.filter((x) => codes.includes(x.code));
  return f.map((x) => `${x.code}: ${x.message}`).join(' ');
}

function renderArtifacts(s: Shown, rel: Float32Array): void {
  const g = overlayGeometry(findings);
  const share = artifactShare(rel, s.rel.height, s.rel.width, g.band ?? 0, s.mask ?? maskFromInput(s));
  const ovB = $<CheckEl>('ovBorder');
  const ovS = $<CheckEl>('ovStride');
  ovB.disabled = !g.band;
  ovS.disabled = !g.stride;
  $('figBorder').textContent = g.band
    ? `${(share.border * 100).toFixed(1)} % of |R| in the ${g.band}-cell band (${(share.borderCells * 100).toFixed(1)} % of cells). ${findingText(['LRP101', 'LRP202'])}`
    : 'No border finding for this model.';
  $('figStride').textContent = g.stride ? `stride ${g.stride}. ${findingText(['LRP102', 'LRP203'])}` : 'No stride finding for this model.';
  $('figMask').textContent = share.maskedCells > 0
    ? `${(share.masked * 100).toFixed(1)} % of |R| on masked cells (${(share.maskedCells * 100).toFixed(1)} % of cells). ${findingText(['LRP209'])}`
    : 'No masked cells.';
  const parts: string[] = [];
  if (g.band) parts.push(`border band ${(share.border * 100).toFixed(1)} %`);
  if (share.maskedCells > 0) parts.push(`masked cells ${(share.masked * 100).toFixed(1)} %`);
  $('artifactSummary').textContent = parts.length ? `Share of relevance on artifact regions: ${parts.join(', ')}.` : '';
}

function maskFromInput(s: Shown): Uint8Array | undefined {
  const inp = s.inp?.maps[sampleIndex(s)];
  if (!inp) return undefined;
  let m: Uint8Array | undefined;
  for (let i = 0; i < inp.length; i++) if (Number.isNaN(inp[i])) { m ??= new Uint8Array(inp.length); m[i] = 1; }
  return m;
}

function renderDataset(): void {
  const s = main;
  const host = $('classMeans');
  host.textContent = '';
  classCanvases = [];
  const tbody = $('samplesTable').querySelector('tbody')!;
  tbody.textContent = '';
  if (!s) return;
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
  const meanAbs = meanMap(s.rel.maps, true);
  const al = relevanceLimits(meanAbs);
  mapMeanAbs.onLayout = (h) => drawColorbar($('barMeanAbs'), al, `mean |R| (${s.init} init)`, h);
  mapMeanAbs.set(drawFor(s, { mode: 'relevance', relevance: meanAbs, relLimits: al }));
  drawColorbar($('barMeanAbs'), al, `mean |R| (${s.init} init)`, mapMeanAbs.canvas.clientHeight || 240);
  s.rel.maps.forEach((m, k) => {
    const tr = document.createElement('tr');
    if (k === sampleIndex(s)) tr.className = 'selected';
    const out = s.outputs ? Array.from(s.outputs.data.subarray(k * s.outputs.classes, (k + 1) * s.outputs.classes)) : [];
    const pred = out.length ? out.indexOf(Math.max(...out)) : undefined;
    const btn = document.createElement('button');
    btn.className = 'link';
    btn.textContent = `#${s.result.samples[k] ?? k}`;
    btn.setAttribute('aria-label', `Show sample ${s.result.samples[k] ?? k}`);
    btn.addEventListener('click', () => { setSample(k); selectTab(0); });
    const label = s.result.labels?.[k];
    const cells: (string | HTMLElement)[] = [btn, s.result.times?.[k] ?? '', label === undefined ? '' : className(s, label), className(s, s.result.target[k]), pred === undefined ? '' : className(s, pred), out.map((v) => formatValue(v)).join(', '), formatValue(mapSummary(m, s.rel.width).sum)];
    for (const c of cells) {
      const td = document.createElement('td');
      td.append(c);
      tr.appendChild(td);
    }
    tbody.appendChild(tr);
  });
}

/** How the comparison caption names each baseline. */
const BASELINE_LABELS: Record<BaselineName, string> = {
  gradient: 'gradient', 'gradient-x-input': 'gradient × input', 'integrated-gradients': 'integrated gradients', smoothgrad: 'SmoothGrad',
};

function relativeToMax(m: Float32Array): Float32Array {
  let max = 0;
  for (const v of m) if (Number.isFinite(v)) max = Math.max(max, Math.abs(v));
  return max > 0 ? m.map((v) => v / max) : m;
}

function renderCompare(): void {
  if (!main || !compared) return;
  const k = sampleIndex(main);
  const kb = Math.min(k, compared.shown.rel.n - 1);
  // A gradient baseline is in other units than LRP relevance (per unit of input, or of the logit):
  // both maps are then drawn relative to their own largest |value|, so their patterns share the scale.
  const baselineB = isBaselineName(compared.shown.result.composite?.name);
  const a = baselineB ? relativeToMax(main.rel.maps[k]) : main.rel.maps[k];
  const b = baselineB ? relativeToMax(compared.shown.rel.maps[kb]) : compared.shown.rel.maps[kb];
  if (b.length !== a.length) {
    $('compareSummary').textContent = 'The two maps have different grids and cannot share a scale.';
    return;
  }
  const lim = limitsFor([a, b]);
  $('capA').textContent = `A · ${compositeName(main)} · class ${main.result.target[k]}`;
  $('capB').textContent = `B · ${compared.label}`;
  const barLabel = baselineB ? 'relative to each map\'s max |value|' : `${unitsLabel(main)}, shared`;
  mapA.onLayout = (h) => drawColorbar($('barCompare'), lim, barLabel, h);
  mapA.set(drawFor(main, { mode: 'relevance', relevance: a, input: main.inp?.maps[k], relLimits: lim }));
  mapB.set(drawFor(main, { mode: 'relevance', relevance: b, input: main.inp?.maps[k], relLimits: lim }));
  drawColorbar($('barCompare'), lim, barLabel, mapA.canvas.clientHeight || 300);
  const sa = mapSummary(main.rel.maps[k], main.rel.width);
  const sb = mapSummary(compared.shown.rel.maps[kb], main.rel.width);
  const text = `${baselineB ? 'Each map relative to its own largest |value| (the baseline is in other units); shared' : 'Shared'} scale ${formatValue(lim.vmin)} to ${formatValue(lim.vmax)}. Correlation of A and B: ${correlation(a, b).toFixed(3)}. Sum of R: A ${formatValue(sa.sum)}, B ${formatValue(sb.sum)}.`;
  $('compareSummary').textContent = text;
  mapA.canvas.setAttribute('aria-label', `Comparison map A (${compositeName(main)}). ${text}`);
  mapB.canvas.setAttribute('aria-label', `Comparison map B (${compared.label}). ${text}`);
}

function renderConservation(): void {
  const s = main;
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

function renderFindings(): void {
  const tbody = $('findingsTable').querySelector('tbody')!;
  tbody.textContent = '';
  for (const f of findings) {
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

/** Tabs drawn since the last data change; the others are drawn when shown (hidden canvases cost time). */
const fresh = new Set<number>();

function renderTab(i: number): void {
  if (fresh.has(i)) return;
  fresh.add(i);
  if (i === 0) renderSample();
  else if (i === 1) renderDataset();
  else if (i === 2) renderCompare();
  else if (i === 3) renderConservation();
}

function renderAll(): void {
  fresh.clear();
  renderTab(state.tab);
}

// ---------------------------------------------------------------- requests
/** A class index with its name from lrp-lens.json classNames, when there is one. */
function className(s: Shown, k: number): string {
  const name = s.result.classNames?.[k];
  return name ? `${k} (${name})` : String(k);
}

function compositeName(s: Shown): string {
  return s.result.composite?.name ?? state.composite;
}

function currentModel(): ModelSummary | undefined {
  return models.find((m) => m.uri === state.model || m.file === state.model);
}

/** file:// URI of an absolute path (as the server writes ModelSummary.uri). */
function fileUri(path: string): string {
  if (/^[a-z][\w+.-]*:/i.test(path) && !/^[a-z]:[\\/]/i.test(path)) return path;
  const p = path.replace(/\\/g, '/');
  return 'file://' + (p.startsWith('/') ? '' : '/') + p.split('/').map(encodeURIComponent).join('/').replace(/^\/([a-z])%3A/i, '/$1:');
}

function explainParams(): PanelExplainParams | undefined {
  const model = state.model;
  if (!model) return undefined;
  return {
    model,
    composite: { name: state.composite, params: state.params },
    target: state.target,
    samples: { ...(state.data ? { data: state.data } : {}), ...(state.indices ? { indices: state.indices } : {}), maxSamples: 64 },
    jobId: `panel-${++reqCounter}-${Date.now()}`,
  };
}

const keyOf = (p: PanelExplainParams) => JSON.stringify({ ...p, jobId: undefined });

function request(params: PanelExplainParams, purpose: 'main' | 'compare', label?: string): void {
  const key = keyOf(params);
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    accept(hit, purpose, label, params);
    return;
  }
  for (const [id, p] of pending) if (p.purpose === purpose) { post({ type: 'cancel', requestId: id }); pending.delete(id); }
  const requestId = params.jobId ?? `req-${++reqCounter}`;
  pending.set(requestId, { purpose, key, label, params });
  post({ type: 'explain', requestId, params, purpose });
  busy(true, purpose === 'main' ? 'Computing relevance…' : 'Computing the comparison…');
}

function recompute(): void {
  const p = explainParams();
  if (!p) { setStatus('No model selected: open a folder with a model file, or pick one above.', true); return; }
  request(p, 'main');
}

function runCompare(): void {
  const base = explainParams();
  if (!base || !main) { setStatus('Explain a model first.', true); return; }
  const kind = state.compare.kind;
  const p: PanelExplainParams = { ...base, jobId: `cmp-${++reqCounter}-${Date.now()}` };
  let label = '';
  switch (kind) {
    case 'composite': p.composite = { name: state.compare.composite }; label = `composite ${state.compare.composite}`; break;
    case 'class': p.target = state.compare.classB; label = `class ${state.compare.classB}`; break;
    case 'randomized': p.variant = 'randomized'; label = 'randomized model'; break;
    case 'blank': p.variant = 'blank'; label = 'blank-input prior'; break;
    default:
      // A baseline the server computes in place of a composite, on the same samples and target.
      p.composite = { name: kind };
      label = BASELINE_LABELS[kind];
      break;
  }
  request(p, 'compare', label);
}

function accept(result: PanelResult, purpose: 'main' | 'compare', label: string | undefined, params: PanelExplainParams): void {
  resetPhases();
  const shown = timed('decode', () => decode(result));
  if (purpose === 'main') {
    main = shown;
    timed('draw', () => renderAll());
    document.body.dataset.phases = JSON.stringify(phases);
  } else {
    compared = { shown, label: label ?? 'B', params };
    fresh.delete(2);
    selectTab(2);
    renderTab(2);
  }
}

function busy(on: boolean, message?: string): void {
  const bar = $('progress') as HTMLElement & { value?: number; indeterminate: boolean };
  bar.hidden = !on;
  if (on) { bar.indeterminate = true; bar.value = undefined; }
  $<ValueEl>('cancel').disabled = !on;
  $('app').setAttribute('aria-busy', String(on));
  if (message !== undefined) setStatus(message);
}

function setStatus(text: string, error = false): void {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('error', error);
}

function onMessage(raw: unknown): void {
  const m = parseToWebview(raw);
  if (!m) return; // not ours, or malformed: ignore
  handle(m);
}

function handle(m: ToWebview): void {
  switch (m.type) {
    case 'init': {
      models = m.models;
      if (m.state) state = { ...DEFAULT_STATE, ...m.state };
      compositeOptions = m.composites;
      fillSelect('composite', m.composites, state.composite);
      fillSelect('compositeB', m.composites, state.compare.composite);
      fillSelect('backend', m.backends, state.backend);
      fillModels();
      applyStateToControls();
      findings = currentModel()?.findings ?? [];
      renderFindings();
      if (state.model && m.autoExplain !== false) recompute();
      break;
    }
    case 'dataPicked':
      state.data = m.path;
      state.indices = undefined;
      $<ValueEl>('data').value = m.path;
      save();
      recompute();
      break;
    case 'models':
      models = m.models;
      fillModels();
      break;
    case 'progress': {
      if (!pending.has(m.requestId)) return;
      const bar = $('progress') as HTMLElement & { value?: number; indeterminate: boolean; max: number };
      if (m.percentage !== undefined) { bar.indeterminate = false; bar.max = 100; bar.value = m.percentage; }
      if (m.message) setStatus(m.message);
      break;
    }
    case 'result': {
      if (/^(host|ext)-/.test(m.requestId) && m.purpose === 'main' && !pending.has(m.requestId)) {
        // The host shows a result it asked for itself (the Explain command): adopt its model, samples,
        // composite and target, so the controls describe what is shown and a recompute explains the same data.
        const q = m.params;
        const r = m.result;
        const wanted = [q?.model, r.model].filter((v): v is string => !!v);
        const known = models.find((x) => wanted.some((w) => x.uri === w || x.file === w || x.uri === fileUri(w)));
        state.model = known?.uri ?? wanted[0];
        const sel = q?.samples ?? r.selection;
        state.data = sel?.data;
        state.indices = sel?.indices ? [...sel.indices] : undefined;
        state.target = q?.target ?? 'argmax';
        if (r.composite?.name) { state.composite = r.composite.name; state.params = r.composite.params ?? {}; }
        fillSelect('composite', [...new Set([...compositeOptions, state.composite])], state.composite);
        fillModels();
        applyStateToControls();
        findings = currentModel()?.findings ?? [];
        renderFindings();
        save();
        pending.set(m.requestId, { purpose: 'main', key: keyOf(explainParams()!), params: explainParams()! });
      }
      const p = pending.get(m.requestId);
      if (!p) return; // cancelled or superseded
      pending.delete(m.requestId);
      cache.set(p.key, m.result);
      while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
      const t = performance.now();
      accept(m.result, m.purpose, p.label, p.params);
      busy(pending.size > 0, `${m.result.cached ? 'From the cache' : `Computed in ${Math.round(m.result.durationMs)} ms`} on ${m.result.backend}.`);
      // Time to first render: from the result's arrival to the frame that shows it.
      requestAnimationFrame(() => {
        const ms = performance.now() - t;
        const cells = main ? main.rel.height * main.rel.width : 0;
        document.body.dataset.renderMs = ms.toFixed(1);
        document.body.dataset.renderCells = String(cells);
        post({ type: 'rendered', cells, ms });
      });
      break;
    }
    case 'findings':
      findings = mergeFindings(currentModel()?.findings ?? [], m.findings);
      renderFindings();
      renderAll();
      busy(pending.size > 0, `${m.findings.length} finding${m.findings.length === 1 ? '' : 's'} from the data set.`);
      break;
    case 'error':
      if (m.requestId) pending.delete(m.requestId);
      busy(pending.size > 0);
      setStatus(m.message.startsWith(m.code) ? m.message : `${m.code}: ${m.message}`, true);
      break;
    case 'exported':
      setStatus(m.path ? `Saved ${m.what} to ${m.path}.` : `Exported ${m.what}.`);
      break;
    case 'renderPngLocally': {
      const base64 = viewPng();
      if (base64) post({ type: 'savePng', name: m.name, base64 });
      else setStatus('Nothing to export yet.', true);
      break;
    }
  }
}

function mergeFindings(a: FindingSummary[], b: FindingSummary[]): FindingSummary[] {
  const seen = new Set<string>();
  return [...a, ...b].filter((f) => {
    const k = `${f.code}|${f.layer?.name ?? ''}|${f.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

// ---------------------------------------------------------------- controls
function fillSelect(id: string, values: string[], selected: string): void {
  const sel = $<ValueEl>(id);
  sel.textContent = '';
  for (const v of values) {
    const o = document.createElement('vscode-option') as HTMLElement & { value: string };
    o.setAttribute('value', v);
    o.textContent = v;
    if (v === selected) o.setAttribute('selected', '');
    sel.appendChild(o);
  }
  if (values.includes(selected)) sel.value = selected;
}

function fillModels(): void {
  const usable = models.filter((m) => m.state === 'ok');
  if (!state.model && usable[0]) state.model = usable[0].uri;
  const sel = $<ValueEl>('model');
  sel.textContent = '';
  // A model the list does not have (yet): still shown as the selection rather than another model.
  if (state.model && !currentModel()) {
    const o = document.createElement('vscode-option');
    o.setAttribute('value', state.model);
    o.textContent = decodeURIComponent(state.model.split(/[\\/]/).pop() ?? state.model);
    o.setAttribute('selected', '');
    sel.appendChild(o);
  }
  for (const m of models) {
    const o = document.createElement('vscode-option');
    o.setAttribute('value', m.uri);
    o.textContent = `${m.name} (${m.file.split(/[\\/]/).pop()})${m.state === 'error' ? ' — did not load' : ''}`;
    if (m.uri === state.model) o.setAttribute('selected', '');
    sel.appendChild(o);
  }
  if (state.model) sel.value = state.model;
}

function applyStateToControls(): void {
  $<ValueEl>('data').value = state.data ?? '';
  $<ValueEl>('epsilon').value = state.params.epsilon !== undefined ? String(state.params.epsilon) : '';
  $<ValueEl>('gamma').value = state.params.gamma !== undefined ? String(state.params.gamma) : '';
  $<ValueEl>('target').value = state.target === 'argmax' ? '' : String(state.target);
  $<ValueEl>('sample').value = String(state.sample);
  ($('opacity') as HTMLInputElement).value = String(Math.round(state.opacity * 100));
  $<CheckEl>('symmetric').checked = state.symmetric;
  $<ValueEl>('percentile').value = String(state.percentile);
  $<CheckEl>('ovBorder').checked = state.overlays.border;
  $<CheckEl>('ovStride').checked = state.overlays.stride;
  $<CheckEl>('ovMask').checked = state.overlays.mask;
  $<ValueEl>('compareKind').value = state.compare.kind;
  $<ValueEl>('classB').value = String(state.compare.classB);
  document.querySelectorAll<HTMLElement & { checked: boolean }>('#viewMode vscode-radio').forEach((r) => { r.checked = r.getAttribute('value') === state.view; });
  selectTab(state.tab);
}

function save(): void {
  vscode.setState(state);
  post({ type: 'saveState', state });
}

function selectTab(i: number): void {
  const tabs = $('tabs') as HTMLElement & { selectedIndex: number };
  if (tabs.selectedIndex !== i) tabs.selectedIndex = i;
  state.tab = i;
  // Maps in a tab that was hidden had no width: lay them out now.
  requestAnimationFrame(() => redrawVisible());
}

function redrawVisible(): void {
  if (main) renderTab(state.tab);
  if (state.tab === 3) renderConservation(); // the chart takes the box's width
}

function setSample(k: number): void {
  state.sample = k;
  $<ValueEl>('sample').value = String(k);
  save();
  renderAll();
}

function num(v: string): number | undefined {
  const t = v.trim();
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

function on(id: string, ev: string, fn: (el: ValueEl & CheckEl) => void): void {
  $(id).addEventListener(ev, (e) => fn(e.currentTarget as ValueEl & CheckEl));
}

on('model', 'change', (el) => { state.model = el.value; state.indices = undefined; findings = currentModel()?.findings ?? []; renderFindings(); save(); recompute(); });
on('composite', 'change', (el) => { state.composite = el.value; save(); });
on('data', 'change', (el) => { state.data = el.value.trim() || undefined; state.indices = undefined; save(); });
on('pickData', 'click', () => post({ type: 'pickData' }));
on('epsilon', 'change', (el) => { const n = num(el.value); if (n === undefined) delete state.params.epsilon; else state.params.epsilon = n; save(); });
on('gamma', 'change', (el) => { const n = num(el.value); if (n === undefined) delete state.params.gamma; else state.params.gamma = n; save(); });
on('target', 'change', (el) => { const n = num(el.value); state.target = n !== undefined && Number.isInteger(n) && n >= 0 ? n : 'argmax'; save(); });
on('sample', 'change', (el) => { const n = num(el.value); if (n !== undefined && Number.isInteger(n) && n >= 0) setSample(n); });
on('backend', 'change', (el) => { state.backend = el.value; save(); post({ type: 'setBackend', backend: el.value }); });
on('recompute', 'click', () => recompute());
on('cancel', 'click', () => {
  for (const id of pending.keys()) post({ type: 'cancel', requestId: id });
  pending.clear();
  busy(false, 'Cancelled.');
});
$('viewMode').addEventListener('change', (e) => {
  const v = (e.target as HTMLElement & { value: string }).value;
  if (v === 'side' || v === 'overlay') { state.view = v; save(); renderSample(); }
});
on('opacity', 'input', (el) => { state.opacity = Number(el.value) / 100; if (state.view === 'overlay') mapRel.setOpacity(state.opacity); });
on('opacity', 'change', () => save());
on('symmetric', 'change', (el) => { state.symmetric = el.checked; save(); renderAll(); });
on('percentile', 'change', (el) => { const n = num(el.value); if (n !== undefined && n > 50 && n <= 100) { state.percentile = n; save(); renderAll(); } });
const toggles: [string, keyof PanelState['overlays']][] = [['ovBorder', 'border'], ['ovStride', 'stride'], ['ovMask', 'mask']];
for (const [id, key] of toggles) {
  on(id, 'change', (el) => {
    state.overlays[key] = el.checked;
    save();
    for (const m of [mapInput, mapRel, mapA, mapB, mapMeanAbs, ...classCanvases]) if (main) m.setOverlays(overlaysFor());
  });
}
on('compareKind', 'change', (el) => { state.compare.kind = el.value as CompareKind; save(); });
on('compositeB', 'change', (el) => { state.compare.composite = el.value; save(); });
on('classB', 'change', (el) => { const n = num(el.value); if (n !== undefined && Number.isInteger(n) && n >= 0) { state.compare.classB = n; save(); } });
on('runCompare', 'click', () => runCompare());
on('checkData', 'click', () => {
  if (!state.model) return;
  const requestId = `chk-${++reqCounter}`;
  post({ type: 'checkData', requestId, model: state.model, composite: { name: state.composite, params: state.params } });
  busy(true, 'Checking the relevance maps of the data set…');
});
$('tabs').addEventListener('vsc-tabs-select', (e) => {
  state.tab = (e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex;
  save();
  requestAnimationFrame(() => redrawVisible());
});

// ---------------------------------------------------------------- export
function pngRequest(): PngRequest | undefined {
  const s = main;
  if (!s) return undefined;
  const k = sampleIndex(s);
  const enc = (m: Float32Array) => encodeFloat32(m, [s.rel.height, s.rel.width]);
  const base = {
    height: s.rel.height, width: s.rel.width, opacity: state.opacity,
    mask: s.mask ? encodeBytes(s.mask) : undefined, coords: s.geo ? { lat: s.geo.lat, lon: s.geo.lon } : undefined,
  };
  if (state.tab === 2 && compared) {
    const a = s.rel.maps[k];
    const b = compared.shown.rel.maps[Math.min(k, compared.shown.rel.n - 1)];
    return { ...base, title: 'comparison', limits: limitsFor([a, b]), colorbarLabel: `${unitsLabel(s)}, shared`,
      panels: [{ title: `A: ${compositeName(s)}`, mode: 'relevance', relevance: enc(a) }, { title: `B: ${compared.label}`, mode: 'relevance', relevance: enc(b) }] };
  }
  if (state.tab === 1) {
    const means = classMeans(s.rel.maps, s.result.target).slice(0, 4);
    return { ...base, title: 'class-means', limits: limitsFor(means.map((m) => m.map)), colorbarLabel: `mean ${unitsLabel(s)}`,
      panels: means.map((m) => ({ title: `class ${m.cls} (n=${m.count})`, mode: 'relevance' as const, relevance: enc(m.map) })) };
  }
  const rel = s.rel.maps[k];
  const inp = s.inp?.maps[k];
  const overlay = state.view === 'overlay' && inp;
  return { ...base, title: `sample-${s.result.samples[k] ?? k}`, limits: limitsFor([rel], s.mask), colorbarLabel: unitsLabel(s),
    panels: [{ title: `sample ${s.result.samples[k] ?? k}, class ${s.result.target[k]}, ${compositeName(s)}`, mode: overlay ? 'overlay' : 'relevance', relevance: enc(rel), input: inp ? enc(inp) : undefined }] };
}

/**
 * PNG of the current tab's maps and colour bars as drawn on screen (same colours: the canvases hold the
 * cell rasters of core/render), for when the server cannot render one. Base64 without the data: prefix.
 */
function viewPng(): string | undefined {
  const tab = document.querySelectorAll('vscode-tab-panel')[state.tab];
  if (!tab || !main) return undefined;
  const canvases = Array.from(tab.querySelectorAll('canvas')).filter((c) => c.getClientRects().length > 0 && c.width > 0 && c.height > 0);
  if (canvases.length === 0) return undefined;
  // The figures' captions (HTML text) are drawn too, so the PNG says what it shows.
  const captions = Array.from(tab.querySelectorAll('figcaption')).filter((c) => c.getClientRects().length > 0 && c.textContent);
  const rects = [...canvases, ...captions].map((c) => c.getBoundingClientRect());
  const left = Math.min(...rects.map((r) => r.left));
  const top = Math.min(...rects.map((r) => r.top));
  const right = Math.max(...rects.map((r) => r.right));
  const bottom = Math.max(...rects.map((r) => r.bottom));
  const scale = Math.max(1, window.devicePixelRatio || 1);
  const pad = 8;
  const out = document.createElement('canvas');
  out.width = Math.ceil((right - left + 2 * pad) * scale);
  out.height = Math.ceil((bottom - top + 2 * pad) * scale);
  const ctx = out.getContext('2d')!;
  // The theme's background behind the maps, so their labels (in the theme's foreground) stay readable.
  ctx.fillStyle = getComputedStyle(document.body).backgroundColor || '#ffffff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.imageSmoothingEnabled = false;
  canvases.forEach((c, i) => {
    const r = rects[i];
    ctx.drawImage(c, (r.left - left + pad) * scale, (r.top - top + pad) * scale, r.width * scale, r.height * scale);
  });
  captions.forEach((c, i) => {
    const r = rects[canvases.length + i];
    const cs = getComputedStyle(c);
    ctx.font = `${cs.fontWeight} ${parseFloat(cs.fontSize) * scale}px ${cs.fontFamily}`;
    ctx.fillStyle = cs.color;
    ctx.textBaseline = 'top';
    // Wrapped at the caption's width, as on screen.
    const maxW = r.width * scale;
    const lines: string[] = [];
    for (const word of c.textContent!.trim().split(/\s+/)) {
      const last = lines[lines.length - 1];
      if (last !== undefined && ctx.measureText(`${last} ${word}`).width <= maxW) lines[lines.length - 1] = `${last} ${word}`;
      else lines.push(word);
    }
    const lh = (parseFloat(cs.lineHeight) || parseFloat(cs.fontSize) * 1.2) * scale;
    lines.forEach((line, j) => ctx.fillText(line, (r.left - left + pad) * scale, (r.top - top + pad) * scale + j * lh));
  });
  return out.toDataURL('image/png').replace(/^data:image\/png;base64,/, '');
}

on('exportPng', 'click', () => {
  const view = pngRequest();
  if (view) post({ type: 'exportPng', view });
  else setStatus('Nothing to export yet.', true);
});
on('exportNpy', 'click', () => {
  if (!main) { setStatus('Nothing to export yet.', true); return; }
  post({ type: 'exportNpy', array: main.result.relevance, name: `relevance-${compositeName(main)}.npy` });
});
on('exportCsv', 'click', () => post({ type: 'exportCsv', findings, name: 'findings.csv' }));

// ---------------------------------------------------------------- start
window.addEventListener('message', (e) => onMessage(e.data));
let resizeTimer: number | undefined;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => { if (main) renderAll(); }, 100);
});
applyStateToControls();
post({ type: 'ready', state });

/** For tests and debugging: the cell under a map point. */
(window as unknown as Record<string, unknown>).__lrpPanel = {
  cellCentre: (which: 'rel' | 'input' | 'A' | 'B', row: number, col: number) => {
    const m = { rel: mapRel, input: mapInput, A: mapA, B: mapB }[which];
    const r = m.canvas.getBoundingClientRect();
    const [x, y] = m.cellCentre(row, col);
    return [r.left + x, r.top + y];
  },
};
