/**
 * What each finding code's remedy can do in the editor, as data: a view of the panel (an overlay, a tab,
 * a comparison), another composite, or an explanation with a rule map. Codes not listed have a remedy
 * that is an architecture or training change, or nothing to do: docs/language-server.md says why for
 * each. code-actions.ts turns these into LSP code actions.
 */
import type { CompositeName } from '../core/names.js';
import type { PanelFocus } from '../protocol.js';

/** A view of the panel on the model (command lrpLens.showPanel with a PanelFocus). */
export interface ViewRemedy {
  kind: 'view';
  title: string;
  focus: Omit<PanelFocus, 'model'>;
}

/** Another composite: written into the model's lrp-lens.json entry, else the lrpLens.composite setting. */
export interface CompositeRemedy {
  kind: 'composite';
  /** A fixed composite, or a function of the one in use (undefined: no switch applies). */
  composite: CompositeName | ((current: string) => CompositeName | undefined);
}

/** An explanation with a rule map on top of the composite (command lrpLens.explainModel). */
export interface RulesRemedy {
  kind: 'rules';
  title: string;
  /** The rule map, from the diagnostic's layer and the composite in use (undefined: none applies). */
  rules: string | ((layer: string | undefined, current: string) => string | undefined);
}

export type Remedy = ViewRemedy | CompositeRemedy | RulesRemedy;

/** The composite without a flat first layer, for one that has it ('epsilon-plus-flat' -> 'epsilon-plus'). */
export function withoutFlat(c: string): CompositeName | undefined {
  return c.endsWith('-flat') ? (c.slice(0, -'-flat'.length) as CompositeName) : undefined;
}

/** The composite with a flat first layer, where the catalogue has one ('epsilon-plus' -> 'epsilon-plus-flat'). */
export function withFlat(c: string): CompositeName | undefined {
  const flat: Record<string, CompositeName> = {
    'epsilon-plus': 'epsilon-plus-flat',
    'epsilon-alpha2-beta1': 'epsilon-alpha2-beta1-flat',
    'preset-a': 'preset-a-flat',
    'preset-b': 'preset-b-flat',
  };
  return Object.hasOwn(flat, c) ? flat[c] : undefined;
}

const border: ViewRemedy = { kind: 'view', title: 'Show the border band on the maps', focus: { tab: 'sample', overlays: { border: true } } };
const strideGrid: ViewRemedy = { kind: 'view', title: 'Show the stride grid on the maps', focus: { tab: 'sample', overlays: { stride: true } } };
const meanMap: ViewRemedy = { kind: 'view', title: 'Show the mean map over the data set', focus: { tab: 'dataset' } };
const conservation: ViewRemedy = { kind: 'view', title: 'Show the conservation report', focus: { tab: 'conservation' } };
const gradientInput: ViewRemedy = { kind: 'view', title: 'Compare with gradient × input', focus: { tab: 'compare', compare: { kind: 'gradient-x-input' } } };
const anotherClass: ViewRemedy = { kind: 'view', title: 'Compare with the map of another class', focus: { tab: 'compare', compare: { kind: 'class' } } };
const randomized: ViewRemedy = { kind: 'view', title: 'Compare with the randomized model', focus: { tab: 'compare', compare: { kind: 'randomized' } } };
/** The twins (core/artifacts/remedy-twins.ts) come with the data-set check and are drawn under the findings. */
const remedyTwin: ViewRemedy = { kind: 'view', title: "Open the remedy twin's map (the same weights without the artifact)", focus: { tab: 'findings', checkData: true } };
const conservativeRecurrent: RulesRemedy = { kind: 'rules', title: "Explain with the conservative recurrent rule (lstm-conservative)", rules: 'kind:Recurrent=lstm-conservative' };

/** Code -> remedies that act, most direct first. */
export const REMEDIES: Readonly<Record<string, readonly Remedy[]>> = Object.freeze({
  LRP101: [border],
  LRP102: [strideGrid],
  // No pooling-block overlay in the panel: the mean map over samples is the remedy the docs name.
  LRP103: [meanMap],
  LRP106: [gradientInput],
  // The map of a linear network is gradient x input: the comparison shows it.
  LRP107: [gradientInput],
  LRP108: [conservation],
  LRP110: [meanMap],
  LRP112: [{ kind: 'composite', composite: 'epsilon-gamma-box' }, anotherClass],
  LRP116: [gradientInput],
  LRP201: [conservation],
  LRP202: [remedyTwin, border],
  LRP203: [strideGrid],
  LRP204: [remedyTwin, meanMap],
  LRP205: [{ kind: 'composite', composite: 'epsilon-gamma-box' }],
  LRP206: [{ kind: 'composite', composite: 'epsilon-gamma-box' }, anotherClass],
  // A flat or w-square first layer makes a map that survives randomization.
  LRP207: [{ kind: 'composite', composite: withoutFlat }, randomized],
  LRP208: [{ kind: 'view', title: 'Compare with the blank-input prior', focus: { tab: 'compare', compare: { kind: 'blank' } } }],
  LRP209: [{ kind: 'view', title: 'Show the masked cells on the maps', focus: { tab: 'sample', overlays: { mask: true } } }],
  // A flat first layer does not multiply by the input; the randomized model is the check's own control.
  LRP210: [{ kind: 'composite', composite: withFlat }, { kind: 'rules', title: 'Explain with the flat rule on the first layer', rules: (_, c) => (withFlat(c) || withoutFlat(c) ? undefined : 'first=flat') }, { kind: 'view', title: 'Compare with epsilon-gamma-box', focus: { tab: 'compare', compare: { kind: 'composite', composite: 'epsilon-gamma-box' } } }, randomized],
  LRP211: [{ kind: 'rules', title: 'Explain with epsilon 0.25 on the layer where relevance goes bad', rules: (layer) => (layer && /^[^=;,\s][^=;,]*$/.test(layer) && layer.trim() === layer ? `name:${layer}=epsilon:0.25` : undefined) }],
  LRP214: [conservativeRecurrent],
});
