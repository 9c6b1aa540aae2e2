/**
 * The panel's state: what the user chose (PanelState, kept across reloads), the models the host knows,
 * the results on screen and the findings shown, with the transitions between them. No DOM.
 */
import { keepState, keptState, post } from './host.js';
import {
  DEFAULT_STATE, type ExplainParams, type FindingSummary, type ModelSummary, type PanelExplainParams,
  type PanelResult, type PanelState,
} from './messages.js';
import type { Shown } from './decode.js';
import type { DataDescription, EntryDraft, PlanInputResult } from '../../server/src/protocol.js';

/** The data form (a data file that is not a .npy of ready inputs): what it describes and the draft being edited. */
export interface DataFormState {
  file: string;
  model: string;
  description?: DataDescription;
  entry?: EntryDraft;
  plan?: PlanInputResult;
  /** The lrp-lens.json the entry was saved to: explains then use the saved entry. */
  savedTo?: string;
}

export interface Compared {
  shown: Shown;
  label: string;
  params: PanelExplainParams;
}

/**
 * PanelState with the sequence view's overlay toggles (sequence-view.ts): kept with the rest, so a reload
 * of the panel or another sample keeps them. Optional: states kept by older versions lack it.
 */
export type KeptPanelState = PanelState & { sequenceOverlays?: Record<string, boolean> };

export interface Panel {
  state: KeptPanelState;
  models: ModelSummary[];
  /** The result on the Sample and Data set tabs, and map A of the comparison. */
  main?: Shown;
  /** Map B of the comparison. */
  compared?: Compared;
  findings: FindingSummary[];
  /** Composite names the host offers. */
  compositeOptions: string[];
  form?: DataFormState;
}

export const panel: Panel = {
  state: { ...DEFAULT_STATE, ...(keptState() ?? {}) },
  models: [],
  findings: [],
  compositeOptions: [],
};

/** Keeps the state for a reload of the page (setState) and of the panel (the host's serializer). */
export function save(): void {
  keepState(panel.state);
  post({ type: 'saveState', state: panel.state });
}

export function currentModel(): ModelSummary | undefined {
  return panel.models.find((m) => m.uri === panel.state.model || m.file === panel.state.model);
}

/** The selected sample, clamped to the shown batch. */
export function sampleIndex(s: Shown): number {
  return Math.max(0, Math.min(s.rel.n - 1, panel.state.sample));
}

/** A class index with its name from lrp-lens.json classNames, when there is one. */
export function className(s: Shown, k: number): string {
  const name = s.result.classNames?.[k];
  return name ? `${k} (${name})` : String(k);
}

export function compositeName(s: Shown): string {
  return s.result.composite?.name ?? panel.state.composite;
}

// ---------------------------------------------------------------- transitions

/** The host's first message: its models and composites, and the state it kept for this panel. */
export function initFromHost(models: ModelSummary[], composites: string[], kept: PanelState | undefined): void {
  panel.models = models;
  if (kept) panel.state = { ...DEFAULT_STATE, ...kept };
  panel.compositeOptions = composites;
}

/** With no model chosen, the first one that loaded. */
export function ensureModel(): void {
  const usable = panel.models.filter((m) => m.state === 'ok');
  if (!panel.state.model && usable[0]) panel.state.model = usable[0].uri;
}

/** The static findings of the selected model (data-set findings are added by addFindings). */
export function resetFindings(): void {
  panel.findings = currentModel()?.findings ?? [];
}

export function selectModel(uri: string): void {
  panel.state.model = uri;
  panel.state.indices = undefined;
  resetFindings();
}

/** Another data file: its samples are chosen afresh. */
export function selectData(path: string | undefined): void {
  panel.state.data = path;
  panel.state.indices = undefined;
}

/** Findings of a data-set check, after the model's own (each once). */
export function addFindings(found: FindingSummary[]): void {
  panel.findings = mergeFindings(currentModel()?.findings ?? [], found);
}

export function mergeFindings(a: FindingSummary[], b: FindingSummary[]): FindingSummary[] {
  const seen = new Set<string>();
  return [...a, ...b].filter((f) => {
    const k = `${f.code}|${f.layer?.name ?? ''}|${f.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * A result the host asked for itself (the Explain command): adopt its model, samples, composite and
 * target, so the controls describe what is shown and a recompute explains the same data.
 */
export function adoptHostResult(q: ExplainParams | undefined, r: PanelResult): void {
  const st = panel.state;
  const wanted = [q?.model, r.model].filter((v): v is string => !!v);
  const known = panel.models.find((x) => wanted.some((w) => x.uri === w || x.file === w || x.uri === fileUri(w)));
  st.model = known?.uri ?? wanted[0];
  const sel = q?.samples ?? r.selection;
  st.data = sel?.data;
  st.indices = sel?.indices ? [...sel.indices] : undefined;
  st.target = q?.target ?? 'argmax';
  if (r.composite?.name) { st.composite = r.composite.name; st.params = r.composite.params ?? {}; }
}

/** file:// URI of an absolute path (as the server writes ModelSummary.uri). */
export function fileUri(path: string): string {
  if (/^[a-z][\w+.-]*:/i.test(path) && !/^[a-z]:[\\/]/i.test(path)) return path;
  const p = path.replace(/\\/g, '/');
  return 'file://' + (p.startsWith('/') ? '' : '/') + p.split('/').map(encodeURIComponent).join('/').replace(/^\/([a-z])%3A/i, '/$1:');
}
