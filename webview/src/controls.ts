/**
 * The form elements: filled from the state, and their events turned into state transitions, redraws
 * and (through the actions main.ts gives) requests to the host.
 */
import { $, on, setStatus, type CheckEl, type ValueEl } from './dom.js';
import { post } from './host.js';
import { modelLabel } from '../../client/src/model-label.js';
import type { CompareKind, PanelState } from './messages.js';
import { isReadyInputs } from './data-form.js';
import { parseTargetField, targetFieldText, targetHint } from './output-target.js';
import { dateFieldHint, parseDateField } from './date-field.js';
import { panel, currentModel, ensureModel, save, selectData, selectModel } from './state.js';
import { redrawVisible, refreshOverlays, renderAll, renderFindings, renderSample, setOpacity } from './views.js';

/** What the controls ask of the request layer. */
export interface ControlActions {
  recompute(): void;
  runCompare(): void;
  cancelAll(): void;
  checkData(): void;
  /** A data file that is not a .npy of ready inputs: the data form. */
  openDataForm(path: string): void;
}

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

/** The host's lists: composites (for A and B) and compute backends. */
export function fillLists(backends: string[]): void {
  const { state, compositeOptions } = panel;
  fillSelect('composite', compositeOptions, state.composite);
  fillSelect('compositeB', compositeOptions, state.compare.composite);
  fillSelect('backend', backends, state.backend);
}

/** The composite list, with the selected composite even when the host did not list it. */
export function fillComposite(): void {
  const { state, compositeOptions } = panel;
  fillSelect('composite', [...new Set([...compositeOptions, state.composite])], state.composite);
}

export function fillModels(): void {
  ensureModel();
  const { state, models } = panel;
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
    o.textContent = `${modelLabel(m).label}${m.state === 'error' ? ' — did not load' : ''}`;
    if (m.uri === state.model) o.setAttribute('selected', '');
    sel.appendChild(o);
  }
  if (state.model) sel.value = state.model;
}

/** The target field's placeholder and label for the chosen model: pixels and regions where its output is a map. */
function showTargetHint(): void {
  const h = targetHint(currentModel());
  const el = $('target');
  el.setAttribute('placeholder', h.placeholder);
  el.setAttribute('aria-label', h.label);
  el.setAttribute('title', h.label);
}

/** The Dates field, where the shown result or the data form's plan has a time axis; its hint names the span. */
export function showDateField(): void {
  const plan = panel.form?.model === panel.state.model ? panel.form?.plan : undefined;
  const times = panel.main?.result.times;
  const span = plan?.firstTime ? { first: plan.firstTime, last: plan.lastTime } : { first: times?.[0], last: times?.[times.length - 1] };
  const has = span.first !== undefined || !!panel.state.dates;
  $('datesField').hidden = !has;
  $('dates').setAttribute('placeholder', dateFieldHint(span));
}

export function applyStateToControls(): void {
  const { state } = panel;
  $<ValueEl>('dates').value = state.dates ?? '';
  showDateField();
  $<ValueEl>('data').value = state.data ?? '';
  $<ValueEl>('epsilon').value = state.params.epsilon !== undefined ? String(state.params.epsilon) : '';
  $<ValueEl>('gamma').value = state.params.gamma !== undefined ? String(state.params.gamma) : '';
  $<ValueEl>('target').value = targetFieldText(state.target);
  showTargetHint();
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

export function selectTab(i: number): void {
  const tabs = $('tabs') as HTMLElement & { selectedIndex: number };
  if (tabs.selectedIndex !== i) tabs.selectedIndex = i;
  panel.state.tab = i;
  // Maps in a tab that was hidden had no width: lay them out now.
  requestAnimationFrame(() => redrawVisible());
}

export function setSample(k: number): void {
  panel.state.sample = k;
  $<ValueEl>('sample').value = String(k);
  save();
  renderAll();
}

/** The data file the host's file picker chose. */
export function showDataFile(path: string): void {
  selectData(path);
  $<ValueEl>('data').value = path;
  save();
}

function num(v: string): number | undefined {
  const t = v.trim();
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

const isIndex = (n: number | undefined): n is number => n !== undefined && Number.isInteger(n) && n >= 0;

export function bindControls(act: ControlActions): void {
  bindExplainFields(act);
  on('recompute', 'click', () => act.recompute());
  on('cancel', 'click', () => act.cancelAll());
  $('viewMode').addEventListener('change', (e) => {
    const v = (e.target as HTMLElement & { value: string }).value;
    if (v === 'side' || v === 'overlay') { panel.state.view = v; save(); renderSample(); }
  });
  on('opacity', 'input', (el) => { panel.state.opacity = Number(el.value) / 100; if (panel.state.view === 'overlay') setOpacity(panel.state.opacity); });
  on('opacity', 'change', () => save());
  on('symmetric', 'change', (el) => { panel.state.symmetric = el.checked; save(); renderAll(); });
  on('percentile', 'change', (el) => { const n = num(el.value); if (n !== undefined && n > 50 && n <= 100) { panel.state.percentile = n; save(); renderAll(); } });
  const toggles: [string, keyof PanelState['overlays']][] = [['ovBorder', 'border'], ['ovStride', 'stride'], ['ovMask', 'mask']];
  for (const [id, key] of toggles) on(id, 'change', (el) => { panel.state.overlays[key] = el.checked; save(); refreshOverlays(); });
  on('compareKind', 'change', (el) => { panel.state.compare.kind = el.value as CompareKind; save(); });
  on('compositeB', 'change', (el) => { panel.state.compare.composite = el.value; save(); });
  on('classB', 'change', (el) => { const n = num(el.value); if (isIndex(n)) { panel.state.compare.classB = n; save(); } });
  on('runCompare', 'click', () => act.runCompare());
  on('checkData', 'click', () => act.checkData());
  $('tabs').addEventListener('vsc-tabs-select', (e) => {
    panel.state.tab = (e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex;
    save();
    requestAnimationFrame(() => redrawVisible());
  });
}

/** The fields above the tabs: what to explain and how. */
function bindExplainFields(act: ControlActions): void {
  const st = () => panel.state;
  on('model', 'change', (el) => { selectModel(el.value); showTargetHint(); renderFindings(); save(); act.recompute(); });
  on('composite', 'change', (el) => { st().composite = el.value; save(); });
  on('data', 'change', (el) => {
    const v = el.value.trim();
    if (v && !isReadyInputs(v)) act.openDataForm(v);
    else { selectData(v || undefined); save(); }
  });
  on('pickData', 'click', () => post({ type: 'pickData' }));
  on('epsilon', 'change', (el) => { const n = num(el.value); if (n === undefined) delete st().params.epsilon; else st().params.epsilon = n; save(); });
  on('gamma', 'change', (el) => { const n = num(el.value); if (n === undefined) delete st().params.gamma; else st().params.gamma = n; save(); });
  on('target', 'change', (el) => {
    const t = parseTargetField(el.value);
    if (t === undefined) { setStatus(`Target '${el.value}': give a class index, pixel:ROW,COL[,CH], region:R0:R1,C0:C1[,CH][,mean|sum] or mean`, true); return; }
    st().target = t;
    save();
  });
  on('sample', 'change', (el) => { const n = num(el.value); if (isIndex(n)) setSample(n); });
  // Samples by date: the next explain and data check take them in place of the shown result's indices.
  on('dates', 'change', (el) => {
    if (parseDateField(el.value) === undefined) { setStatus(`Dates '${el.value}': give YYYY-MM[-DD] dates separated by commas, or a range FROM:TO`, true); return; }
    const t = el.value.trim();
    if (t) st().dates = t;
    else delete st().dates;
    save();
  });
  on('backend', 'change', (el) => { st().backend = el.value; save(); post({ type: 'setBackend', backend: el.value }); });
}
