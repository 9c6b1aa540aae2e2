/**
 * Messages between the heat-map panel (webview) and its host (client/src/panel.ts), with validators
 * for both directions: each side checks what it receives, since a webview is a separate page and its
 * messages are untrusted input to the extension host. Requests to the language server use the types of
 * server/src/protocol.ts; what only the panel needs is added here.
 */
import type {
  CompositeChoice, DataDescription, EncodedArray, EntryDraft, ExplainParams, ExplainResult, FindingSummary, ModelSummary, PlanInputResult,
  OutputTarget, PngRequest, RemedyTwinMaps, SampleSelection, SaveEntryResult,
} from '../../server/src/protocol.js';
import type { BaselineName } from '../../server/src/core/names.js';

export type { CompositeChoice, DataDescription, EncodedArray, EntryDraft, ExplainParams, ExplainResult, FindingSummary, ModelSummary, OutputTarget, PlanInputResult, RemedyTwinMaps, SaveEntryResult };

/** Grid coordinates of the input when the data have them (geographic mode). */
export interface PanelCoords {
  lat: number[];
  lon: number[];
}

/** What makes a comparison's second map differ from the first. */
export type CompareKind = 'composite' | 'randomized' | 'blank' | 'class' | BaselineKind;
/** Gradient baselines the server runs in place of a composite (core/names.ts BASELINE_NAMES). */
export type BaselineKind = BaselineName;

/**
 * An explain request from the panel: the server's ExplainParams, plus a model variant the server may
 * support ('randomized': top layers re-initialized, the sanity check; 'blank': the blank-input prior).
 */
export interface PanelExplainParams extends ExplainParams {
  variant?: 'randomized' | 'blank';
}

/**
 * A result as the panel shows it: the server's ExplainResult, whose geographic fields (coords, wrapLon,
 * mask, grid, times, labels, classNames, inputUnits, layout) the server fills for lrp-lens.json data.
 */
export type PanelResult = ExplainResult;

/** Everything the panel keeps across reloads (through vscode.setState and the serializer). */
export interface PanelState {
  model?: string;
  /** Data file with the samples to explain (default: what lrp-lens.json says). */
  data?: string;
  /** Sample indices of the shown result when it named them (kept so a recompute explains the same samples). */
  indices?: number[];
  /** The Dates field's text ('2015-12, 2016-01' or '2015-01:2016-06'): samples by date, in place of `indices`. */
  dates?: string;
  composite: string;
  params: Record<string, number>;
  /** A class index, the arg-max, or (a model with an output map) a pixel, region or all outputs. */
  target: 'argmax' | number | OutputTarget;
  sample: number;
  backend: string;
  view: 'side' | 'overlay';
  opacity: number;
  symmetric: boolean;
  percentile: number;
  tab: number;
  overlays: { border: boolean; stride: boolean; mask: boolean };
  compare: { kind: CompareKind; composite: string; classB: number };
}

export const DEFAULT_STATE: PanelState = {
  composite: 'epsilon-plus',
  params: {},
  target: 'argmax',
  sample: 0,
  backend: 'auto',
  view: 'side',
  opacity: 0.6,
  symmetric: true,
  percentile: 100,
  tab: 0,
  overlays: { border: true, stride: false, mask: true },
  compare: { kind: 'composite', composite: 'epsilon', classB: 1 },
};

/** A view to export as PNG: the server renders it with the same colours (core/render/png-request.ts). */
export type { PngRequest };

// ---- webview -> host ----
export type ToHost =
  | { type: 'ready'; state?: PanelState }
  | { type: 'explain'; requestId: string; params: PanelExplainParams; purpose: 'main' | 'compare' }
  | { type: 'cancel'; requestId: string }
  /** The data-set check on the panel's samples: its data file, dates or indices, or the data form's unsaved entry. */
  | { type: 'checkData'; requestId: string; model: string; composite?: string | CompositeChoice; samples?: SampleSelection; entry?: EntryDraft }
  | { type: 'setBackend'; backend: string }
  | { type: 'pickData' }
  | { type: 'exportPng'; view: PngRequest }
  /** The page's own PNG of the view (canvas.toDataURL), when the server cannot render one (no sharp). */
  | { type: 'savePng'; name: string; base64: string }
  | { type: 'exportNpy'; array: EncodedArray; name: string }
  /** The shown explanation as CF NetCDF: the host asks the server (lrpLens/exportNetcdf) with the request that gave it. */
  | { type: 'exportNetcdf'; params: PanelExplainParams; name: string }
  | { type: 'exportCsv'; findings: FindingSummary[]; name: string }
  | { type: 'openDocs'; url: string }
  | { type: 'rendered'; cells: number; ms: number }
  | { type: 'saveState'; state: PanelState }
  /** The data form (data-form.ts): describe a data file, plan an entry draft, save it to lrp-lens.json. */
  | { type: 'describeData'; requestId: string; file: string; model?: string }
  | { type: 'planInput'; requestId: string; model: string; entry: EntryDraft; previewSample?: number }
  | { type: 'saveEntry'; requestId: string; model: string; entry: EntryDraft };

// ---- host -> webview ----
export type ToWebview =
  | { type: 'init'; models: ModelSummary[]; state?: PanelState; backends: string[]; composites: string[]; /** false when the host is about to send a result itself */ autoExplain?: boolean }
  | { type: 'dataPicked'; path: string }
  | { type: 'models'; models: ModelSummary[] }
  | { type: 'progress'; requestId: string; percentage?: number; message?: string }
  /** requestId 'host-…': a result the host shows on its own (the Explain command), with its request. */
  | { type: 'result'; requestId: string; purpose: 'main' | 'compare'; result: PanelResult; params?: ExplainParams }
  /** `twins`: the warnings' remedy twins (the maps without the artifact) where the project can build them. */
  | { type: 'findings'; requestId: string; findings: FindingSummary[]; twins?: RemedyTwinMaps[] }
  | { type: 'error'; requestId?: string; code: string; message: string }
  | { type: 'exported'; what: string; path?: string }
  /** The server could not render the PNG: the page draws it from its canvases and sends savePng. */
  | { type: 'renderPngLocally'; name: string }
  /** Open the data form on this file (the host's "Choose a data file…", "Add data", "Explain a model on this data"). */
  | { type: 'openDataForm'; path: string; model?: string }
  | { type: 'dataDescribed'; requestId: string; description: DataDescription }
  | { type: 'planned'; requestId: string; plan: PlanInputResult }
  | { type: 'entrySaved'; requestId: string; saved: SaveEntryResult };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown, max = 4096): v is string => typeof v === 'string' && v.length <= max;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isOptStr = (v: unknown) => v === undefined || isStr(v);

/** Largest array a message may carry (elements): 4096 x 4096 cells x 16 samples. */
const MAX_ARRAY = 4096 * 4096 * 16;

/** A remedy twin's two maps must have the height x width they declare. */
function isRemedyTwin(v: unknown): v is RemedyTwinMaps {
  if (!isObj(v)) return false;
  const t = v as Record<string, unknown>;
  const cells = (a: unknown): boolean => isEncodedArray(a) && a.shape.length === 2 && a.shape[0] === t.height && a.shape[1] === t.width;
  return isStr(t.code, 20) && isStr(t.name, 200) && isStr(t.statisticName, 200) && typeof t.statistic === 'number' && typeof t.twinStatistic === 'number'
    && Number.isInteger(t.height) && Number.isInteger(t.width) && (t.height as number) > 0 && (t.width as number) > 0 && cells(t.user) && cells(t.twin);
}

export function isEncodedArray(v: unknown): v is EncodedArray {
  if (!isObj(v) || v.dtype !== 'float32' || typeof v.base64 !== 'string' || !Array.isArray(v.shape)) return false;
  if (!v.shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) return false;
  const n = (v.shape as number[]).reduce((a, b) => a * b, 1);
  // base64 of 4n bytes has 4*ceil(4n/3) characters.
  return n <= MAX_ARRAY && v.base64.length === 4 * Math.ceil((4 * n) / 3);
}

function isComposite(v: unknown): boolean {
  if (isStr(v, 100)) return true;
  return isObj(v) && isStr(v.name, 100) && (v.params === undefined || (isObj(v.params) && Object.values(v.params).every(isNum)));
}

function isState(v: unknown): v is PanelState {
  return isObj(v) && isStr(v.composite, 100) && isObj(v.params) && isOptStr(v.data) && isOptStr(v.model) && (v.dates === undefined || isStr(v.dates, 4096))
    && (v.indices === undefined || (Array.isArray(v.indices) && v.indices.length <= 100000 && v.indices.every((i) => Number.isInteger(i) && i >= 0))) && (v.target === 'argmax' || isNum(v.target) || isOutputTarget(v.target)) && isNum(v.sample)
    && (v.view === 'side' || v.view === 'overlay') && isNum(v.opacity) && isObj(v.overlays) && isObj(v.compare);
}

/** A map target's outline (the server checks it fully, request-params.ts). */
export function isOutputTarget(v: unknown): v is OutputTarget {
  if (!isObj(v)) return false;
  const idx = (x: unknown) => Number.isInteger(x) && (x as number) >= 0;
  const chOk = v.channel === undefined || idx(v.channel);
  const reduceOk = v.reduce === undefined || v.reduce === 'sum' || v.reduce === 'mean';
  if (v.type === 'pixel') return Array.isArray(v.at) && v.at.length >= 2 && v.at.length <= 4 && v.at.every(idx) && chOk;
  if (v.type === 'region') return Array.isArray(v.ranges) && v.ranges.length >= 2 && v.ranges.length <= 3 && v.ranges.every((r) => Array.isArray(r) && r.length === 2 && idx(r[0]) && idx(r[1]) && r[0] <= r[1]) && chOk && reduceOk;
  return v.type === 'all' && (v.reduce === 'sum' || v.reduce === 'mean');
}

function isExplainParams(v: unknown): v is PanelExplainParams {
  if (!isObj(v) || !isStr(v.model)) return false;
  if (v.composite !== undefined && !isComposite(v.composite)) return false;
  if (v.target !== undefined && v.target !== 'argmax' && !(Number.isInteger(v.target) && (v.target as number) >= 0) && !isOutputTarget(v.target)) return false;
  if (v.variant !== undefined && v.variant !== 'randomized' && v.variant !== 'blank') return false;
  if (v.samples !== undefined && !isSamples(v.samples)) return false;
  return v.entry === undefined || isEntryDraft(v.entry);
}

/** A sample selection's outline: data file, indices, dates, time range, cap (the server checks the dates against the data). */
function isSamples(s: unknown): boolean {
  if (!isObj(s) || !isOptStr(s.data)) return false;
  if (s.indices !== undefined && !(Array.isArray(s.indices) && s.indices.length <= 100000 && s.indices.every((i) => Number.isInteger(i) && i >= 0))) return false;
  if (s.dates !== undefined && !(Array.isArray(s.dates) && s.dates.length <= 10000 && s.dates.every((d) => isStr(d, 40)))) return false;
  if (s.timeRange !== undefined && !isStr(s.timeRange, 100)) return false;
  return s.maxSamples === undefined || (Number.isInteger(s.maxSamples) && (s.maxSamples as number) > 0);
}

/** An entry draft's outline (the server checks every key with the project file's own parser); bounded in size. */
export function isEntryDraft(v: unknown): v is EntryDraft {
  if (!isObj(v) || !isObj(v.data) || !isStr(v.data.file) || v.data.file.length === 0) return false;
  if (!isOptStr(v.data.variable) || (v.data.variables !== undefined && !(Array.isArray(v.data.variables) && v.data.variables.length <= 64 && v.data.variables.every((x) => isStr(x, 200))))) return false;
  if (v.input !== undefined && !isObj(v.input)) return false;
  if (v.name !== undefined && !isStr(v.name, 200)) return false;
  return JSON.stringify(v).length <= 65536;
}

function isPngRequest(v: unknown): v is PngRequest {
  if (!isObj(v) || !isStr(v.title, 500) || !isStr(v.colorbarLabel, 500) || !isNum(v.opacity)) return false;
  if (!Number.isInteger(v.height) || !Number.isInteger(v.width) || (v.height as number) < 1 || (v.width as number) < 1) return false;
  if ((v.height as number) * (v.width as number) > 4096 * 4096) return false;
  if (!isObj(v.limits) || !isNum(v.limits.vmin) || !isNum(v.limits.vmax)) return false;
  if (!Array.isArray(v.panels) || v.panels.length < 1 || v.panels.length > 4) return false;
  if (v.regions !== undefined && !(Array.isArray(v.regions) && v.regions.length <= 64 && v.regions.every(isRegion))) return false;
  return v.panels.every((p) => isObj(p) && isStr(p.title, 500) && ['relevance', 'input', 'overlay'].includes(p.mode as string)
    && (p.relevance === undefined || isEncodedArray(p.relevance)) && (p.input === undefined || isEncodedArray(p.input)));
}

/** Validate a message from the webview; undefined when it is not one the host accepts. */
export function parseToHost(m: unknown): ToHost | undefined {
  if (!isObj(m) || !isStr(m.type, 40)) return undefined;
  switch (m.type) {
    case 'ready':
      return m.state === undefined || isState(m.state) ? (m as ToHost) : undefined;
    case 'explain':
      return isStr(m.requestId, 100) && isExplainParams(m.params) && (m.purpose === 'main' || m.purpose === 'compare') ? (m as ToHost) : undefined;
    case 'cancel':
      return isStr(m.requestId, 100) ? (m as ToHost) : undefined;
    case 'checkData':
      return isStr(m.requestId, 100) && isStr(m.model) && (m.composite === undefined || isComposite(m.composite)) && (m.samples === undefined || isSamples(m.samples)) && (m.entry === undefined || isEntryDraft(m.entry)) ? (m as ToHost) : undefined;
    case 'setBackend':
      return isStr(m.backend, 40) && /^[a-z-]+$/.test(m.backend) ? (m as ToHost) : undefined;
    case 'pickData':
      return m as ToHost;
    case 'exportPng':
      return isPngRequest(m.view) ? (m as ToHost) : undefined;
    case 'savePng':
      return isStr(m.name, 200) && isPngBase64(m.base64) ? (m as ToHost) : undefined;
    case 'exportNpy':
      return isEncodedArray(m.array) && isStr(m.name, 200) ? (m as ToHost) : undefined;
    case 'exportNetcdf':
      return isExplainParams(m.params) && isStr(m.name, 200) ? (m as ToHost) : undefined;
    case 'exportCsv':
      return Array.isArray(m.findings) && m.findings.length <= 100000 && m.findings.every((f) => isObj(f) && isStr(f.code, 20)) && isStr(m.name, 200) ? (m as ToHost) : undefined;
    case 'openDocs':
      // Only documentation links: http(s) or file URLs, nothing that runs a command.
      return isStr(m.url, 2000) && /^(https?|file):/.test(m.url) ? (m as ToHost) : undefined;
    case 'rendered':
      return isNum(m.cells) && isNum(m.ms) ? (m as ToHost) : undefined;
    case 'saveState':
      return isState(m.state) ? (m as ToHost) : undefined;
    case 'describeData':
      return isStr(m.requestId, 100) && isStr(m.file) && isOptStr(m.model) ? (m as ToHost) : undefined;
    case 'planInput':
      return isStr(m.requestId, 100) && isStr(m.model) && isEntryDraft(m.entry) && (m.previewSample === undefined || (Number.isInteger(m.previewSample) && (m.previewSample as number) >= 0)) ? (m as ToHost) : undefined;
    case 'saveEntry':
      return isStr(m.requestId, 100) && isStr(m.model) && isEntryDraft(m.entry) ? (m as ToHost) : undefined;
    default:
      return undefined;
  }
}

/** A result's `sequence` (protocol SequenceInfo): axes and sizes as integers, a globe's arrays well formed. */
function isSequenceInfo(q: unknown): boolean {
  const int = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  if (!isObj(q) || !int(q.timeAxis) || !int(q.featureAxis) || !int(q.steps) || !int(q.features) || typeof q.recurrent !== 'boolean') return false;
  if (q.timeDim !== undefined && !isStr(q.timeDim, 200)) return false;
  const g = q.toGrid;
  if (g === undefined) return true;
  return isObj(g) && isEncodedArray(g.relevance) && (g.input === undefined || isEncodedArray(g.input)) && (g.mask === undefined || isStr(g.mask, 1 << 26))
    && isObj(g.coords) && Array.isArray(g.coords.lat) && Array.isArray(g.coords.lon) && g.coords.lat.every(isNum) && g.coords.lon.every(isNum);
}

/** A region of lrp-lens.json as the server passes it: a name and two finite [low, high] ranges. */
function isRegion(g: unknown): boolean {
  const range = (v: unknown) => Array.isArray(v) && v.length === 2 && v.every(isNum) && (v[0] as number) < (v[1] as number);
  return isObj(g) && isStr(g.name, 200) && range(g.lat) && range(g.lon);
}

/** Validate a message from the host (the webview trusts only well-formed data). */
export function parseToWebview(m: unknown): ToWebview | undefined {
  if (!isObj(m) || !isStr(m.type, 40)) return undefined;
  switch (m.type) {
    case 'init':
      return Array.isArray(m.models) && Array.isArray(m.backends) && Array.isArray(m.composites) && (m.state === undefined || isState(m.state)) ? (m as ToWebview) : undefined;
    case 'models':
      return Array.isArray(m.models) ? (m as ToWebview) : undefined;
    case 'dataPicked':
      return isStr(m.path) ? (m as ToWebview) : undefined;
    case 'progress':
      return isStr(m.requestId, 100) && (m.percentage === undefined || isNum(m.percentage)) && isOptStr(m.message) ? (m as ToWebview) : undefined;
    case 'result': {
      const r = m.result;
      if (!isStr(m.requestId, 100) || (m.purpose !== 'main' && m.purpose !== 'compare') || !isObj(r)) return undefined;
      if (!isEncodedArray(r.relevance) || (r.input !== undefined && !isEncodedArray(r.input)) || (r.outputs !== undefined && !isEncodedArray(r.outputs))) return undefined;
      if (!Array.isArray(r.target) || !Array.isArray(r.samples) || !isObj(r.conservation)) return undefined;
      if (r.coords !== undefined && !(isObj(r.coords) && Array.isArray(r.coords.lat) && Array.isArray(r.coords.lon) && r.coords.lat.every(isNum) && r.coords.lon.every(isNum))) return undefined;
      if (r.mask !== undefined && !isStr(r.mask, 1 << 26)) return undefined;
      if (r.wrapLon !== undefined && !(Number.isInteger(r.wrapLon) && (r.wrapLon as number) >= 0)) return undefined;
      if (r.grid !== undefined && !(isObj(r.grid) && Array.isArray(r.grid.shape) && r.grid.shape.length >= 2 && r.grid.shape.length <= 3
        && r.grid.shape.every((d) => Number.isInteger(d) && (d as number) > 0) && ['NHWC', 'NCHW', 'HW'].includes(r.grid.layout as string))) return undefined;
      if (r.times !== undefined && !(Array.isArray(r.times) && r.times.every((t) => isStr(t, 64)))) return undefined;
      if (r.labels !== undefined && !(Array.isArray(r.labels) && r.labels.every(isNum))) return undefined;
      if (r.classNames !== undefined && !(Array.isArray(r.classNames) && r.classNames.every((t) => isStr(t, 200)))) return undefined;
      if (r.inputDiverging !== undefined && typeof r.inputDiverging !== 'boolean') return undefined;
      if (r.regions !== undefined && !(Array.isArray(r.regions) && r.regions.length <= 64 && r.regions.every(isRegion))) return undefined;
      if (r.sequence !== undefined && !isSequenceInfo(r.sequence)) return undefined;
      if (m.params !== undefined && !isExplainParams(m.params)) return undefined;
      return m as ToWebview;
    }
    case 'findings':
      return isStr(m.requestId, 100) && Array.isArray(m.findings) && (m.twins === undefined || (Array.isArray(m.twins) && m.twins.length <= 16 && m.twins.every(isRemedyTwin))) ? (m as ToWebview) : undefined;
    case 'error':
      return isStr(m.code, 100) && isStr(m.message, 10000) ? (m as ToWebview) : undefined;
    case 'exported':
      return isStr(m.what, 100) ? (m as ToWebview) : undefined;
    case 'renderPngLocally':
      return isStr(m.name, 200) ? (m as ToWebview) : undefined;
    case 'openDataForm':
      return isStr(m.path) && isOptStr(m.model) ? (m as ToWebview) : undefined;
    case 'dataDescribed': {
      const d = m.description;
      return isStr(m.requestId, 100) && isObj(d) && isStr(d.file) && Array.isArray(d.variables) && Array.isArray(d.axes) && Array.isArray(d.notes)
        && (d.defaults === undefined || isEntryDraft(d.defaults)) ? (m as ToWebview) : undefined;
    }
    case 'planned': {
      const p = m.plan;
      if (!isStr(m.requestId, 100) || !isObj(p) || typeof p.fits !== 'boolean' || !Array.isArray(p.problems) || !Array.isArray(p.modelShape)) return undefined;
      if (!p.problems.every((q) => isObj(q) && isStr(q.message, 10000) && isOptStr(q.path))) return undefined;
      const pv = p.preview;
      if (pv !== undefined && !(isObj(pv) && isEncodedArray(pv.map) && pv.map.shape.length === 2 && (pv.mask === undefined || isStr(pv.mask, 1 << 26)))) return undefined;
      return m as ToWebview;
    }
    case 'entrySaved':
      return isStr(m.requestId, 100) && isObj(m.saved) && isStr(m.saved.project) ? (m as ToWebview) : undefined;
    default:
      return undefined;
  }
}

/** Largest PNG the page may hand to the host to save (bytes). */
export const MAX_PNG_BYTES = 64 << 20;

/** A base64 string of a PNG file: the signature, and no bigger than MAX_PNG_BYTES. */
export function isPngBase64(v: unknown): v is string {
  if (!isStr(v, Math.ceil(MAX_PNG_BYTES / 3) * 4) || !/^[A-Za-z0-9+/]+={0,2}$/.test(v.slice(0, 64)) || v.length % 4 !== 0) return false;
  // "\x89PNG\r\n\x1a\n" in base64.
  return v.startsWith('iVBORw0KGgo');
}

/** Base64 of a Float32Array's bytes (little-endian on every platform VS Code runs on). */
export function encodeFloat32(data: Float32Array, shape: number[]): EncodedArray {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let s = '';
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) s += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return { shape, dtype: 'float32', base64: btoa(s) };
}

export function decodeFloat32(a: EncodedArray): Float32Array {
  const bytes = decodeBytes(a.base64);
  return new Float32Array(bytes.buffer, 0, bytes.length >> 2);
}

const B64 = (() => {
  const t = new Uint8Array(128).fill(255);
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < abc.length; i++) t[abc.charCodeAt(i)] = i;
  return t;
})();

/** Base64 to bytes with a lookup table: several times faster than atob for the 4 MB of a 720x1440 map. */
export function decodeBytes(b64: string): Uint8Array {
  let n = b64.length;
  while (n > 0 && b64.charCodeAt(n - 1) === 61) n--; // '=' padding
  const out = new Uint8Array((n * 3) >> 2);
  let o = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = (B64[b64.charCodeAt(i)] << 18) | (B64[b64.charCodeAt(i + 1)] << 12) | (B64[b64.charCodeAt(i + 2)] << 6) | B64[b64.charCodeAt(i + 3)];
    out[o++] = v >> 16;
    out[o++] = (v >> 8) & 255;
    out[o++] = v & 255;
  }
  if (n - i >= 2) {
    const v = (B64[b64.charCodeAt(i)] << 18) | (B64[b64.charCodeAt(i + 1)] << 12) | (n - i > 2 ? B64[b64.charCodeAt(i + 2)] << 6 : 0);
    out[o++] = v >> 16;
    if (n - i > 2) out[o++] = (v >> 8) & 255;
  }
  return out;
}

export function encodeBytes(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
