/**
 * Messages to and from the extension host: explain requests (with a small result cache and one
 * request in flight per purpose), cancellation, the data-set check, and the handling of what the host sends.
 */
import type { BaselineName } from '../../server/src/core/names.js';
import { $, busy, setStatus, showProgress, type ValueEl } from './dom.js';
import { post } from './host.js';
import { parseToWebview, type PanelExplainParams, type PanelResult, type ToWebview } from './messages.js';
import { phases, resetPhases, timed } from './timing.js';
import { decode } from './decode.js';
import {
  panel, addFindings, adoptHostResult, initFromHost, resetFindings, save, selectData, selectModel,
} from './state.js';
import { TAB, renderAll, renderFindings, renderTab, staleCompare } from './views.js';
import { applyStateToControls, fillComposite, fillLists, fillModels, selectTab, showDataFile, showDateField } from './controls.js';
import type { DataDescription, EntryDraft, PlanInputResult, SampleSelection, SaveEntryResult } from '../../server/src/protocol.js';
import { parseDateField } from './date-field.js';
import { initialDraft, isReadyInputs } from './data-form.js';
import { mountDataForm, showDataForm, showPlan, showSaved } from './data-form-view.js';
import { savePngLocally } from './export.js';
import { renderRemedyTwins } from './remedy-view.js';

type Purpose = 'main' | 'compare';
const pending = new Map<string, { purpose: Purpose; key: string; label?: string; params: PanelExplainParams }>();
/** Recent results by request (least recently used first). */
const cache = new Map<string, PanelResult>();
const CACHE_SIZE = 8;
let reqCounter = 0;

/** How the comparison caption names each baseline. */
const BASELINE_LABELS: Record<BaselineName, string> = {
  gradient: 'gradient', 'gradient-x-input': 'gradient × input', 'integrated-gradients': 'integrated gradients', smoothgrad: 'SmoothGrad',
};

/** An unsaved data-form draft for the model: explained and checked as such; once saved, lrp-lens.json has it. */
function draftFor(model: string): EntryDraft | undefined {
  return panel.form?.entry && !panel.form.savedTo && panel.form.model === model ? panel.form.entry : undefined;
}

/**
 * The samples the controls name: the data file (unless a draft gives the data), the Dates field's dates,
 * else (explain) the shown result's indices. The check keeps the server's own default count otherwise.
 */
function panelSamples(draft: EntryDraft | undefined, purpose: 'explain' | 'check'): SampleSelection {
  const { state } = panel;
  const byDate = state.dates ? parseDateField(state.dates) ?? {} : {};
  const picked = byDate.dates || byDate.timeRange ? byDate : state.indices && purpose === 'explain' ? { indices: state.indices } : {};
  return { ...(state.data && !draft ? { data: state.data } : {}), ...picked, ...(purpose === 'explain' ? { maxSamples: 64 } : {}) };
}

/** The request the controls describe, or nothing when no model is chosen. */
function explainParams(): PanelExplainParams | undefined {
  const { state } = panel;
  const model = state.model;
  if (!model) return undefined;
  const draft = draftFor(model);
  return {
    model,
    composite: { name: state.composite, params: state.params },
    target: state.target,
    samples: panelSamples(draft, 'explain'),
    ...(draft ? { entry: draft } : {}),
    jobId: `panel-${++reqCounter}-${Date.now()}`,
  };
}

const keyOf = (p: PanelExplainParams) => JSON.stringify({ ...p, jobId: undefined });

function remember(key: string, result: PanelResult): void {
  cache.set(key, result);
  while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
}

function request(params: PanelExplainParams, purpose: Purpose, label?: string): void {
  const key = keyOf(params);
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    accept(hit, purpose, label, params);
    return;
  }
  // A new request supersedes the one in flight for the same purpose.
  for (const [id, p] of pending) if (p.purpose === purpose) { post({ type: 'cancel', requestId: id }); pending.delete(id); }
  const requestId = params.jobId ?? `req-${++reqCounter}`;
  pending.set(requestId, { purpose, key, label, params });
  post({ type: 'explain', requestId, params, purpose });
  busy(true, purpose === 'main' ? 'Computing relevance…' : 'Computing the comparison…');
}

export function recompute(): void {
  const p = explainParams();
  if (!p) { setStatus('No model selected: open a folder with a model file, or pick one above.', true); return; }
  request(p, 'main');
}

export function runCompare(): void {
  const base = explainParams();
  if (!base || !panel.main) { setStatus('Explain a model first.', true); return; }
  const { compare } = panel.state;
  const p: PanelExplainParams = { ...base, jobId: `cmp-${++reqCounter}-${Date.now()}` };
  let label = '';
  switch (compare.kind) {
    case 'composite': p.composite = { name: compare.composite }; label = `composite ${compare.composite}`; break;
    case 'class': p.target = compare.classB; label = `class ${compare.classB}`; break;
    case 'randomized': p.variant = 'randomized'; label = 'randomized model'; break;
    case 'blank': p.variant = 'blank'; label = 'blank-input prior'; break;
    default:
      // A baseline the server computes in place of a composite, on the same samples and target.
      p.composite = { name: compare.kind };
      label = BASELINE_LABELS[compare.kind];
      break;
  }
  request(p, 'compare', label);
}

export function cancelAll(): void {
  for (const id of pending.keys()) post({ type: 'cancel', requestId: id });
  pending.clear();
  busy(false, 'Cancelled.');
}

export function checkData(): void {
  const { state } = panel;
  if (!state.model) return;
  const requestId = `chk-${++reqCounter}`;
  const draft = draftFor(state.model);
  post({ type: 'checkData', requestId, model: state.model, composite: { name: state.composite, params: state.params }, samples: panelSamples(draft, 'check'), ...(draft ? { entry: draft } : {}) });
  busy(true, 'Checking the relevance maps of the data set…');
}

function accept(result: PanelResult, purpose: Purpose, label: string | undefined, params: PanelExplainParams): void {
  resetPhases();
  const shown = timed('decode', () => decode(result));
  if (purpose === 'main') {
    panel.main = shown;
    showDateField();
    timed('draw', () => renderAll());
    document.body.dataset.phases = JSON.stringify(phases);
  } else {
    panel.compared = { shown, label: label ?? 'B', params };
    staleCompare();
    selectTab(TAB.compare);
    renderTab(TAB.compare);
  }
}

/** A message from the host; anything not ours, or malformed, is ignored. */
export function onMessage(raw: unknown): void {
  const m = parseToWebview(raw);
  if (m) handle(m);
}

function handle(m: ToWebview): void {
  switch (m.type) {
    case 'init':
      initFromHost(m.models, m.composites, m.state);
      fillLists(m.backends);
      fillModels();
      applyStateToControls();
      resetFindings();
      renderFindings();
      if (panel.state.model && m.autoExplain !== false) recompute();
      break;
    case 'dataPicked':
      if (isReadyInputs(m.path)) { closeDataForm(); showDataFile(m.path); recompute(); } else openDataForm(m.path);
      break;
    case 'openDataForm':
      openDataForm(m.path, m.model);
      break;
    case 'dataDescribed':
      onDescribed(m.requestId, m.description);
      break;
    case 'planned':
      onPlanned(m.requestId, m.plan);
      break;
    case 'entrySaved':
      onSaved(m.requestId, m.saved);
      break;
    case 'models':
      panel.models = m.models;
      fillModels();
      break;
    case 'progress':
      if (pending.has(m.requestId)) showProgress(m.percentage, m.message);
      break;
    case 'result':
      onResult(m);
      break;
    case 'findings':
      addFindings(m.findings);
      renderFindings();
      renderRemedyTwins(m.twins ?? []);
      renderAll();
      busy(pending.size > 0, `${m.findings.length} finding${m.findings.length === 1 ? '' : 's'} from the data set.`);
      break;
    case 'error':
      if (m.requestId) pending.delete(m.requestId);
      if (m.requestId && formRequests.delete(m.requestId)) showFormError(m.code, m.message);
      busy(pending.size > 0);
      setStatus(m.message.startsWith(m.code) ? m.message : `${m.code}: ${m.message}`, true);
      break;
    case 'exported':
      setStatus(m.path ? `Saved ${m.what} to ${m.path}.` : `Exported ${m.what}.`);
      break;
    case 'renderPngLocally':
      savePngLocally(m.name);
      break;
  }
}

function onResult(m: Extract<ToWebview, { type: 'result' }>): void {
  if (/^(host|ext)-/.test(m.requestId) && m.purpose === 'main' && !pending.has(m.requestId)) adoptHostRequest(m);
  const p = pending.get(m.requestId);
  if (!p) return; // cancelled or superseded
  pending.delete(m.requestId);
  remember(p.key, m.result);
  const t = performance.now();
  accept(m.result, m.purpose, p.label, p.params);
  busy(pending.size > 0, `${m.result.cached ? 'From the cache' : `Computed in ${Math.round(m.result.durationMs)} ms`} on ${m.result.backend}.`);
  // Time to first render: from the result's arrival to the frame that shows it.
  requestAnimationFrame(() => {
    const ms = performance.now() - t;
    const cells = panel.main ? panel.main.rel.height * panel.main.rel.width : 0;
    document.body.dataset.renderMs = ms.toFixed(1);
    document.body.dataset.renderCells = String(cells);
    post({ type: 'rendered', cells, ms });
  });
}

/**
 * The host shows a result it asked for itself (the Explain command): the state adopts its request, the
 * controls show it, and it is taken in as if the page had asked for it.
 */
function adoptHostRequest(m: Extract<ToWebview, { type: 'result' }>): void {
  adoptHostResult(m.params, m.result);
  fillComposite();
  fillModels();
  applyStateToControls();
  resetFindings();
  renderFindings();
  save();
  const params = explainParams()!;
  pending.set(m.requestId, { purpose: 'main', key: keyOf(params), params });
}

// ---------------------------------------------------------------- the data form

/** Data-form requests in flight (describe, plan, save), by id; a plan answer other than the latest is dropped. */
const formRequests = new Set<string>();
let latestPlan = '';
let planTimer: ReturnType<typeof setTimeout> | undefined;
/** Pause after the last change before the plan is asked for (typing in a field changes it often). */
const PLAN_DEBOUNCE_MS = 250;

/** A data file that is not a .npy of ready inputs: describe it (for this model) and show the form. */
export function openDataForm(path: string, model?: string): void {
  if (model && model !== panel.state.model) { selectModel(model); fillModels(); }
  const m = panel.state.model;
  if (!m) { setStatus('Choose a model first: the data form fits the data to its input.', true); return; }
  // The draft replaces a .npy of inputs chosen earlier.
  selectData(undefined);
  $<ValueEl>('data').value = path;
  save();
  panel.form = { file: path, model: m };
  const requestId = `describe-${++reqCounter}`;
  formRequests.add(requestId);
  post({ type: 'describeData', requestId, file: path, model: m });
  busy(true, `Reading ${path.split(/[\\/]/).pop()}…`);
}

export function closeDataForm(): void {
  panel.form = undefined;
  showDataForm(undefined);
}

function onDescribed(requestId: string, d: DataDescription): void {
  if (!formRequests.delete(requestId) || !panel.form) return;
  busy(pending.size > 0, '');
  if (isReadyInputs(d.file) && !d.defaults) {
    // A .npy of model inputs needs no choices: explained as before.
    closeDataForm();
    showDataFile(d.file);
    recompute();
    return;
  }
  panel.form.description = d;
  panel.form.entry = initialDraft(d);
  showDataForm({ description: d, entry: panel.form.entry });
  planNow();
}

function planNow(): void {
  const f = panel.form;
  if (!f?.entry) return;
  const requestId = `plan-${++reqCounter}`;
  latestPlan = requestId;
  formRequests.add(requestId);
  showPlan(undefined);
  post({ type: 'planInput', requestId, model: f.model, entry: f.entry });
}

function onPlanned(requestId: string, plan: PlanInputResult): void {
  if (!formRequests.delete(requestId) || requestId !== latestPlan || !panel.form) return;
  panel.form.plan = plan;
  showPlan(plan);
  showDateField();
}

function onSaved(requestId: string, saved: SaveEntryResult): void {
  if (!formRequests.delete(requestId) || !panel.form) return;
  panel.form.savedTo = saved.project;
  // Results from before the save came from other data: the same request now reads the saved entry.
  cache.clear();
  showSaved(saved.project);
  setStatus(`${saved.created ? 'Created' : 'Saved to'} ${saved.project}: entry "${saved.name}"${saved.replaced ? ' (replaced the earlier one)' : ''}. Explanations now use it.`);
}

function showFormError(code: string, message: string): void {
  busy(pending.size > 0);
  setStatus(message.startsWith(code) ? message : `${code}: ${message}`, true);
}

/** Builds the data form and connects it to the requests (main.ts, once). */
export function bindDataForm(): void {
  mountDataForm(formActions);
}

const formActions = {
  changed(entry: EntryDraft) {
    if (!panel.form) return;
    panel.form.entry = entry;
    // A changed draft is no longer what was saved.
    panel.form.savedTo = undefined;
    clearTimeout(planTimer);
    planTimer = setTimeout(planNow, PLAN_DEBOUNCE_MS);
  },
  explain() {
    recompute();
    // The heat map appears in the Sample tab below the form: bring it into view.
    selectTab(TAB.sample);
    $('tabs').scrollIntoView({ block: 'start' });
  },
  save() {
    const f = panel.form;
    if (!f?.entry) return;
    const requestId = `save-${++reqCounter}`;
    formRequests.add(requestId);
    post({ type: 'saveEntry', requestId, model: f.model, entry: f.entry });
  },
  close() { closeDataForm(); },
};
