/**
 * Messages between the heat-map panel (webview) and its host (client/src/panel.ts), with validators
 * for both directions: each side checks what it receives, since a webview is a separate page and its
 * messages are untrusted input to the extension host. Requests to the language server use the types of
 * server/src/protocol.ts; what only the panel needs is added here.
 */
import type {
  CompositeChoice, EncodedArray, ExplainParams, ExplainResult, FindingSummary, ModelSummary,
} from '../../server/src/protocol.js';
import type { PngRequest } from '../../server/src/core/render/png-request.js';

export type { CompositeChoice, EncodedArray, ExplainParams, ExplainResult, FindingSummary, ModelSummary };

/** Grid coordinates of the input when the data have them (geographic mode). */
export interface PanelCoords {
  lat: number[];
  lon: number[];
}

/** What makes a comparison's second map differ from the first. */
export type CompareKind = 'composite' | 'randomized' | 'blank' | 'class' | 'gradient';

/**
 * An explain request from the panel: the server's ExplainParams, plus a model variant the server may
 * support ('randomized': top layers re-initialized, the sanity check; 'blank': the blank-input prior).
 */
export interface PanelExplainParams extends ExplainParams {
  variant?: 'randomized' | 'blank';
}

/** A result as the panel shows it: the server's ExplainResult, plus coordinates and mask when known. */
export interface PanelResult extends ExplainResult {
  coords?: PanelCoords;
  /** 1 = masked cell, one per cell of one sample map (height*width), base64 of bytes. */
  mask?: string;
  /** Physical units of the input (degC, ...), for the readout. */
  inputUnits?: string;
  /** Layout of `relevance` and `input` (the model file's input layout: NHWC, NCHW, NC, ...). */
  layout?: string;
}

/** Everything the panel keeps across reloads (through vscode.setState and the serializer). */
export interface PanelState {
  model?: string;
  composite: string;
  params: Record<string, number>;
  target: 'argmax' | number;
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
  | { type: 'checkData'; requestId: string; model: string; composite?: string | CompositeChoice }
  | { type: 'setBackend'; backend: string }
  | { type: 'exportPng'; view: PngRequest }
  | { type: 'exportNpy'; array: EncodedArray; name: string }
  | { type: 'exportCsv'; findings: FindingSummary[]; name: string }
  | { type: 'openDocs'; url: string }
  | { type: 'rendered'; cells: number; ms: number }
  | { type: 'saveState'; state: PanelState };

// ---- host -> webview ----
export type ToWebview =
  | { type: 'init'; models: ModelSummary[]; state?: PanelState; backends: string[]; composites: string[] }
  | { type: 'models'; models: ModelSummary[] }
  | { type: 'progress'; requestId: string; percentage?: number; message?: string }
  | { type: 'result'; requestId: string; purpose: 'main' | 'compare'; result: PanelResult }
  | { type: 'findings'; requestId: string; findings: FindingSummary[] }
  | { type: 'error'; requestId?: string; code: string; message: string }
  | { type: 'exported'; what: string; path?: string };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown, max = 4096): v is string => typeof v === 'string' && v.length <= max;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isOptStr = (v: unknown) => v === undefined || isStr(v);

/** Largest array a message may carry (elements): 4096 x 4096 cells x 16 samples. */
const MAX_ARRAY = 4096 * 4096 * 16;

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
  return isObj(v) && isStr(v.composite, 100) && isObj(v.params) && (v.target === 'argmax' || isNum(v.target)) && isNum(v.sample)
    && (v.view === 'side' || v.view === 'overlay') && isNum(v.opacity) && isObj(v.overlays) && isObj(v.compare);
}

function isExplainParams(v: unknown): v is PanelExplainParams {
  if (!isObj(v) || !isStr(v.model)) return false;
  if (v.composite !== undefined && !isComposite(v.composite)) return false;
  if (v.target !== undefined && v.target !== 'argmax' && !(Number.isInteger(v.target) && (v.target as number) >= 0)) return false;
  if (v.variant !== undefined && v.variant !== 'randomized' && v.variant !== 'blank') return false;
  if (v.samples !== undefined) {
    const s = v.samples;
    if (!isObj(s) || !isOptStr(s.data)) return false;
    if (s.indices !== undefined && !(Array.isArray(s.indices) && s.indices.length <= 100000 && s.indices.every((i) => Number.isInteger(i) && i >= 0))) return false;
    if (s.maxSamples !== undefined && !(Number.isInteger(s.maxSamples) && (s.maxSamples as number) > 0)) return false;
  }
  return true;
}

function isPngRequest(v: unknown): v is PngRequest {
  if (!isObj(v) || !isStr(v.title, 500) || !isStr(v.colorbarLabel, 500) || !isNum(v.opacity)) return false;
  if (!Number.isInteger(v.height) || !Number.isInteger(v.width) || (v.height as number) < 1 || (v.width as number) < 1) return false;
  if ((v.height as number) * (v.width as number) > 4096 * 4096) return false;
  if (!isObj(v.limits) || !isNum(v.limits.vmin) || !isNum(v.limits.vmax)) return false;
  if (!Array.isArray(v.panels) || v.panels.length < 1 || v.panels.length > 4) return false;
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
      return isStr(m.requestId, 100) && isStr(m.model) && (m.composite === undefined || isComposite(m.composite)) ? (m as ToHost) : undefined;
    case 'setBackend':
      return isStr(m.backend, 40) && /^[a-z-]+$/.test(m.backend) ? (m as ToHost) : undefined;
    case 'exportPng':
      return isPngRequest(m.view) ? (m as ToHost) : undefined;
    case 'exportNpy':
      return isEncodedArray(m.array) && isStr(m.name, 200) ? (m as ToHost) : undefined;
    case 'exportCsv':
      return Array.isArray(m.findings) && m.findings.length <= 100000 && m.findings.every((f) => isObj(f) && isStr(f.code, 20)) && isStr(m.name, 200) ? (m as ToHost) : undefined;
    case 'openDocs':
      // Only documentation links: http(s) or file URLs, nothing that runs a command.
      return isStr(m.url, 2000) && /^(https?|file):/.test(m.url) ? (m as ToHost) : undefined;
    case 'rendered':
      return isNum(m.cells) && isNum(m.ms) ? (m as ToHost) : undefined;
    case 'saveState':
      return isState(m.state) ? (m as ToHost) : undefined;
    default:
      return undefined;
  }
}

/** Validate a message from the host (the webview trusts only well-formed data). */
export function parseToWebview(m: unknown): ToWebview | undefined {
  if (!isObj(m) || !isStr(m.type, 40)) return undefined;
  switch (m.type) {
    case 'init':
      return Array.isArray(m.models) && Array.isArray(m.backends) && Array.isArray(m.composites) && (m.state === undefined || isState(m.state)) ? (m as ToWebview) : undefined;
    case 'models':
      return Array.isArray(m.models) ? (m as ToWebview) : undefined;
    case 'progress':
      return isStr(m.requestId, 100) && (m.percentage === undefined || isNum(m.percentage)) && isOptStr(m.message) ? (m as ToWebview) : undefined;
    case 'result': {
      const r = m.result;
      if (!isStr(m.requestId, 100) || (m.purpose !== 'main' && m.purpose !== 'compare') || !isObj(r)) return undefined;
      if (!isEncodedArray(r.relevance) || (r.input !== undefined && !isEncodedArray(r.input)) || (r.outputs !== undefined && !isEncodedArray(r.outputs))) return undefined;
      if (!Array.isArray(r.target) || !Array.isArray(r.samples) || !isObj(r.conservation)) return undefined;
      if (r.coords !== undefined && !(isObj(r.coords) && Array.isArray(r.coords.lat) && Array.isArray(r.coords.lon) && r.coords.lat.every(isNum) && r.coords.lon.every(isNum))) return undefined;
      if (r.mask !== undefined && !isStr(r.mask, 1 << 26)) return undefined;
      return m as ToWebview;
    }
    case 'findings':
      return isStr(m.requestId, 100) && Array.isArray(m.findings) ? (m as ToWebview) : undefined;
    case 'error':
      return isStr(m.code, 100) && isStr(m.message, 10000) ? (m as ToWebview) : undefined;
    case 'exported':
      return isStr(m.what, 100) ? (m as ToWebview) : undefined;
    default:
      return undefined;
  }
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
  const bin = atob(a.base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer, 0, bytes.length >> 2);
}

export function decodeBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function encodeBytes(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
