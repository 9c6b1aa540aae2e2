/**
 * The view a finding's code action asks the panel for (lrpLens.showPanel's argument, built by the
 * server's code actions): checked here, since a command's arguments can come from anywhere, and applied
 * to the panel's state (the model, the tab, the overlays, the comparison) before the page starts.
 */
import type { ExplainCommandOptions, PanelFocus } from '../../server/src/protocol.js';
import { BASELINE_NAMES } from '../../server/src/core/names.js';
import type { CompareKind, PanelState } from '../../webview/src/messages.js';

/** The panel's tabs in their order in webview/panel.html (PanelState.tab is the index). */
export const PANEL_TABS = ['sample', 'dataset', 'compare', 'conservation', 'findings'] as const;

const COMPARE_KINDS: readonly string[] = ['composite', 'randomized', 'blank', 'class', ...BASELINE_NAMES];

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isName = (v: unknown): v is string => typeof v === 'string' && v.length <= 100 && /^[\w.-]+$/.test(v);

/** A well-formed PanelFocus, or undefined (anything else is ignored, never half-applied). */
export function parsePanelFocus(v: unknown): PanelFocus | undefined {
  if (!isObj(v) || typeof v.model !== 'string' || v.model.length === 0 || v.model.length > 4096) return undefined;
  const f: PanelFocus = { model: v.model };
  if (v.tab !== undefined) {
    if (!(PANEL_TABS as readonly unknown[]).includes(v.tab)) return undefined;
    f.tab = v.tab as PanelFocus['tab'];
  }
  if (v.overlays !== undefined) {
    if (!isObj(v.overlays)) return undefined;
    const o: NonNullable<PanelFocus['overlays']> = {};
    for (const k of ['border', 'stride', 'mask'] as const) {
      const b = v.overlays[k];
      if (b === undefined) continue;
      if (typeof b !== 'boolean') return undefined;
      o[k] = b;
    }
    f.overlays = o;
  }
  if (v.compare !== undefined) {
    const c = v.compare;
    if (!isObj(c) || !COMPARE_KINDS.includes(c.kind as string) || (c.composite !== undefined && !isName(c.composite))) return undefined;
    f.compare = { kind: c.kind as NonNullable<PanelFocus['compare']>['kind'], ...(c.composite !== undefined ? { composite: c.composite as string } : {}) };
  }
  if (v.checkData !== undefined) {
    if (typeof v.checkData !== 'boolean') return undefined;
    f.checkData = v.checkData;
  }
  return f;
}

/** The state the page starts in: `base` with the focus applied (another model's data and samples are not kept). */
export function focusState(base: PanelState, f: PanelFocus): PanelState {
  const s: PanelState = { ...base, overlays: { ...base.overlays }, compare: { ...base.compare } };
  if (s.model !== f.model) {
    s.model = f.model;
    s.data = undefined;
    s.indices = undefined;
  }
  if (f.tab) s.tab = PANEL_TABS.indexOf(f.tab);
  for (const k of ['border', 'stride', 'mask'] as const) if (f.overlays?.[k] !== undefined) s.overlays[k] = f.overlays[k]!;
  if (f.compare) {
    s.compare.kind = f.compare.kind as CompareKind;
    if (f.compare.composite) s.compare.composite = f.compare.composite;
  }
  return s;
}

/** lrpLens.explainModel's options (argument 1): a composite and a rule map, checked. */
export function parseExplainOptions(v: unknown): ExplainCommandOptions | undefined {
  if (!isObj(v)) return undefined;
  const o: ExplainCommandOptions = {};
  if (v.composite !== undefined) {
    if (!isName(v.composite)) return undefined;
    o.composite = v.composite;
  }
  if (v.rules !== undefined) {
    // The CLI's --rules syntax: selectors, rule names and numbers (the server parses and checks it).
    if (typeof v.rules !== 'string' || v.rules.length > 2000 || /[\n\r]/.test(v.rules)) return undefined;
    o.rules = v.rules;
  }
  return o;
}
