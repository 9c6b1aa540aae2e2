/**
 * The custom part of the LRP Lens language protocol, typed once and imported by the server, the VS Code
 * client and the webview. Plain types and string constants only (no runtime dependency), so the webview
 * can import it without pulling in vscode-jsonrpc.
 *
 * Everything else is standard LSP: diagnostics (source "lrp-lens"), hover, code actions,
 * window/workDoneProgress + $/progress, $/cancelRequest.
 */

import type { BackendName } from './core/names.js';
import type { PngRequest } from './core/render/png-view.js';

export type { EncodedMap, PngRequest } from './core/render/png-view.js';

/** Request and notification names (namespaced `lrpLens/`). */
export const Method = {
  /** ListModelsParams -> ListModelsResult */
  listModels: 'lrpLens/listModels',
  /** ExplainParams -> ExplainResult (long: reports $/progress, honours cancellation) */
  explain: 'lrpLens/explain',
  /** CheckDataParams -> CheckDataResult (long: like explain) */
  checkData: 'lrpLens/checkData',
  /** CancelParams -> CancelResult: cancel a job by id (for clients that cannot send $/cancelRequest). */
  cancel: 'lrpLens/cancel',
  /** ReanalyzeParams -> ReanalyzeResult: forget cached results and analyze every model again. */
  reanalyze: 'lrpLens/reanalyze',
  /** PngRequest -> { base64 }: the panel's PNG export, rendered with sharp. */
  renderPng: 'lrpLens/renderPng',
  /**
   * AllowPathsParams -> AllowPathsResult: files the user picked in a dialog, which the server may then
   * read although they are outside the workspace folders (it reads no other outside path).
   */
  allowPaths: 'lrpLens/allowPaths',
} as const;

export const Notification = {
  /** Server -> client, StatusParams: backend and running jobs, for a status bar. */
  status: 'lrpLens/status',
  /** Server -> client, ExplainDoneParams: an explain finished (the panel may show it). */
  explainDone: 'lrpLens/explainDone',
} as const;

export type RequestMethod = (typeof Method)[keyof typeof Method];
export type NotificationMethod = (typeof Notification)[keyof typeof Notification];

/**
 * Each request's parameter and result types, bound to its method name once: the server's dispatch
 * table and the clients take them from here (`ParamsOf<typeof Method.explain>`), as vscode-eslint's
 * RequestType objects do, without a runtime dependency.
 */
export interface Requests {
  [Method.listModels]: { params: ListModelsParams; result: ListModelsResult };
  [Method.explain]: { params: ExplainParams; result: ExplainResult };
  [Method.checkData]: { params: CheckDataParams; result: CheckDataResult };
  [Method.cancel]: { params: CancelParams; result: CancelResult };
  [Method.reanalyze]: { params: ReanalyzeParams; result: ReanalyzeResult };
  /** params: a PngRequest (below), checked where it is rendered (core/render/png-request.ts). */
  [Method.renderPng]: { params: PngRequest; result: RenderPngResult };
  [Method.allowPaths]: { params: AllowPathsParams; result: AllowPathsResult };
}
export type ParamsOf<M extends RequestMethod> = Requests[M]['params'];
export type ResultOf<M extends RequestMethod> = Requests[M]['result'];

/** Each server -> client notification's parameter type, by method name. */
export interface Notifications {
  [Notification.status]: StatusParams;
  [Notification.explainDone]: ExplainDoneParams;
}

/** Same shape as core/errors.ts ErrorInfo (repeated here so the webview needs no core import). */
export interface ProtocolError {
  code: string;
  message: string;
  file?: string;
  layer?: string;
  hint?: string;
}

export interface TensorInfo {
  name: string;
  /** Shape as the file declares it, batch first (null = symbolic). */
  shape: (number | null)[];
  layout: string;
}

export interface LayerSummary {
  index: number;
  name: string;
  /** IR kind (Conv, Dense, Pool, ...). */
  kind: string;
  /** Class or op type in the file (Conv2D, Gemm, ...). */
  className: string;
  inbound: string[];
  outputShape: (number | null)[];
  params: number;
  activation: string;
  /** One-line description of the layer's parameters (kernel, strides, padding, ...). */
  detail: string;
  /** [start, end) character offsets of the layer's entry in a JSON model file. */
  jsonRange?: [number, number];
}

export interface FindingSummary {
  code: string;
  severity: 'error' | 'warning' | 'information' | 'hint';
  message: string;
  remedy: string;
  docs: string;
  layer?: { name: string; index: number };
  /** The file the finding is about (the model, or lrp-lens.json) and [start, end) offsets in it where it is JSON. */
  file: string;
  range?: [number, number];
  data?: Record<string, number | string | boolean | number[]>;
}

export interface ModelSummary {
  /** file:// URI of the model file. */
  uri: string;
  /** Absolute path. */
  file: string;
  /** The model's name in the file (file name when it did not load). */
  name: string;
  /** 'ok': loaded and checked; 'error': did not load (see error); 'pending': not analyzed yet. */
  state: 'ok' | 'error' | 'pending';
  format?: { name: string; version: string; producer?: string };
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  layers: LayerSummary[];
  totalParams: number;
  findings: FindingSummary[];
  error?: ProtocolError;
  /** sha256 of the file's bytes (and its weight shards): the cache key. */
  contentHash?: string;
  /** Milliseconds the analysis took (0 when served from the cache). */
  analysisMs?: number;
}

export interface ListModelsParams {
  /** Only models whose path contains this string. */
  filter?: string;
}
export interface ListModelsResult {
  models: ModelSummary[];
}

/** Which samples to explain. Default: what lrp-lens.json's data pipeline gives, else an error saying so. */
export interface SampleSelection {
  /** A .npy (or other data file the readers know) holding model inputs, batch first. */
  data?: string;
  /** Indices along the batch/sample dimension (default: all, capped by maxSamples). */
  indices?: number[];
  /** Cap on the number of samples (default 64). */
  maxSamples?: number;
}

export interface CompositeChoice {
  /**
   * A composite name (core/names.ts COMPOSITE_NAMES), or a gradient baseline (BASELINE_NAMES) the
   * server runs through the same engine instead (params: steps and reference for integrated gradients;
   * samples, noise and seed for SmoothGrad).
   */
  name: string;
  /** Its parameters (epsilon, gamma, low, high, alpha, beta, ...). */
  params?: Record<string, number>;
}

export interface ExplainParams {
  /** URI or absolute path of the model file. */
  model: string;
  samples?: SampleSelection;
  /** Default: lrp-lens.json, else the lrpLens.composite setting. */
  composite?: string | CompositeChoice;
  /** Class index to explain, or 'argmax' (default) per sample. */
  target?: number | 'argmax';
  /** Client-chosen id, so lrpLens/cancel can name the job before the response arrives. */
  jobId?: string;
  /** Keep per-layer relevance sums (for hover shares). Default true. */
  layerShares?: boolean;
  /**
   * A control for comparisons: 'randomized' explains the same samples on the model with every linear
   * layer re-initialized (the cascading-randomization sanity check, all layers); 'blank' explains one
   * all-zero input (the blank-input prior).
   */
  variant?: 'randomized' | 'blank';
  /** A rule map on top of the composite, in the CLI's --rules spec syntax ('kind:Conv=gamma:0.5;first=flat'). */
  rules?: string;
  /** Output-relevance initialisation; default: the composite's own (Zennit's one-hot, iNNvestigate's presets: output). */
  init?: 'onehot' | 'output';
}

/** A float32 array sent as base64 of its little-endian bytes (compact, exact). */
export interface EncodedArray {
  shape: number[];
  dtype: 'float32';
  base64: string;
}

export interface ConservationReport {
  /** Per sample: relevance put in at the output (1.0 for the target class under Zennit's convention). */
  outputRelevance: number[];
  /** Per sample: sum of the input relevance. */
  inputRelevance: number[];
  /** Per sample: |input - output| / |output|. */
  relativeError: number[];
  /** Largest relativeError. */
  maxRelativeError: number;
  /** Per layer (where the engine reports it): relevance sum after the layer, mean over samples. */
  perLayer?: { layer: string; sum: number }[];
}

export interface ExplainResult {
  jobId: string;
  model: string;
  composite: CompositeChoice;
  /** Explained class per sample. */
  target: number[];
  /** Indices of the samples explained. */
  samples: number[];
  /** Where the samples came from, as the request gave it (a client re-explaining the same data sends it back). */
  selection?: SampleSelection;
  /** The lrp-lens.json whose data pipeline gave the samples (when the request named no data). */
  projectFile?: string;
  /** Input relevance, in the model file's input layout, batch first. */
  relevance: EncodedArray;
  /** The inputs that were explained (same shape), for overlays. */
  input?: EncodedArray;
  /** Model outputs (logits before a final softmax) per sample. */
  outputs?: EncodedArray;
  conservation: ConservationReport;
  /** Per layer: relevance summed over its output as a share of the relevance put in at the output (mean over samples; 1 = conserved), for hovers. */
  layerShares?: { layer: string; share: number }[];
  /** What computed the maps: 'onnxruntime' (the compiled LRP graph) or the tfjs backend's name. */
  backend: string;
  /** Why ONNX Runtime was preferred but did not run (a layer or rule that does not lower, no runtime). */
  engineFallback?: string;
  durationMs: number;
  /** true when served from the cache (same file content, settings and parameters). */
  cached: boolean;
  /** The model file's input layout of `relevance` and `input` (NHWC, NCHW, NC, ...). */
  layout?: string;
  /**
   * How to view one sample of a flattened input (an MLP fed lrp-lens.json data with input.flatten) as a
   * map: the per-sample shape before flattening and where its channel axis is ('NHWC': last, 'NCHW':
   * first, 'HW': none).
   */
  grid?: { shape: number[]; layout: 'NHWC' | 'NCHW' | 'HW' };
  /**
   * Cell-centre coordinates of the map's rows (lat) and columns (lon), when the samples came from
   * lrp-lens.json data with a lat/lon grid. lon includes the `wrapLon` columns the pipeline added on each
   * side (continuing monotonically past the grid's ends).
   */
  coords?: { lat: number[]; lon: number[] };
  /** Columns copied onto each side of the map by the periodic longitude wrap (lrp-lens.json input.wrapLon). */
  wrapLon?: number;
  /** Base64 of one byte per map cell (rows x columns, wrapped columns included): 1 = masked (land, missing). */
  mask?: string;
  /** Physical units of the input, where the data say them. */
  inputUnits?: string;
  /** Per explained sample: its date (samples along a time axis), its label (lrp-lens.json labels). */
  times?: string[];
  labels?: number[];
  /** Names of the output classes (lrp-lens.json classNames). */
  classNames?: string[];
}

export interface CheckDataParams {
  model: string;
  samples?: SampleSelection;
  /** As explain's (composite and its params: epsilon, gamma, low, high); the same precedence applies. */
  composite?: string | CompositeChoice;
  /** As explain's; the map checks judge the predicted class, so only 'argmax' is accepted. */
  target?: number | 'argmax';
  rules?: string;
  /** As explain's; the map checks start from the composite's own initialisation, so none is accepted. */
  init?: 'onehot' | 'output';
  jobId?: string;
}
export interface CheckDataResult {
  jobId: string;
  model: string;
  /** Relevance-map findings (LRP2xx); also published as diagnostics on the model. */
  findings: FindingSummary[];
  durationMs: number;
}

export interface CancelParams {
  jobId: string;
}
export interface CancelResult {
  cancelled: boolean;
}

export interface ReanalyzeParams {
  /** Only this model (URI or path); default all. */
  model?: string;
}
export interface ReanalyzeResult {
  models: number;
}

export interface AllowPathsParams {
  /** Absolute paths or file URIs the user picked. */
  paths: string[];
}
export interface AllowPathsResult {
  allowed: number;
}

export interface RenderPngResult {
  /** The PNG file's bytes. */
  base64: string;
}

export interface StatusParams {
  backend: string;
  /** Jobs running or queued, by kind. */
  running: { jobId: string; kind: 'analyze' | 'explain' | 'checkData'; model: string }[];
  models: number;
  /** Models with at least one error-level finding or a load error. */
  withErrors: number;
  trusted: boolean;
}

export interface ExplainDoneParams {
  result: ExplainResult;
}

/** What a client may pass in initialize's initializationOptions (all optional). */
export interface InitializationOptions {
  /** Untrusted workspace: static checks only; explain and checkData are refused. Default true. */
  trusted?: boolean;
  /** Settings used when the client does not answer workspace/configuration (Neovim, Helix). */
  settings?: Partial<LensSettings>;
  /** Base URL of the findings documentation, '<base><code>.md' (default: the bundled docs). */
  docsBaseUrl?: string;
}

/** The lrpLens.* settings the server reads. */
export interface LensSettings {
  modelGlobs: string[];
  exclude: string[];
  maxFileSizeMB: number;
  composite: string;
  compositeParams: Record<string, number>;
  backend: BackendName;
  workers: number;
  memoryLimitMB: number;
  /** Finding codes not to publish (static LRP1xx and relevance-map LRP2xx alike). */
  disabledChecks: string[];
}

export const DEFAULT_SETTINGS: LensSettings = {
  modelGlobs: ['**/*.{h5,hdf5,keras,onnx}', '**/model.json', '**/saved_model.pb'],
  exclude: ['**/node_modules/**', '**/.git/**'],
  maxFileSizeMB: 512,
  composite: 'epsilon-plus',
  compositeParams: {},
  backend: 'auto',
  workers: 1,
  memoryLimitMB: 4096,
  disabledChecks: [],
};

/** Decode an EncodedArray (server, client and webview alike). */
export function decodeArray(a: EncodedArray): Float32Array {
  const bin = typeof atob === 'function' ? atob(a.base64) : '';
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer, 0, bytes.length / 4);
}
