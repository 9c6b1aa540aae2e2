/**
 * The names users pick from, each vocabulary declared once: the CLI, the language server, the protocol,
 * the panel and the client import them from here. Dependency-free, so the webview bundle can import it.
 * JSON files cannot import: names.test.ts checks that package.json's enums equal these lists.
 */

/** Named LRP composites (core/lrp/composites.ts defines what each does; Zennit's and iNNvestigate's names). */
export const COMPOSITE_NAMES = [
  'epsilon',
  'epsilon-plus',
  'epsilon-gamma-box',
  'epsilon-alpha2-beta1',
  'epsilon-plus-flat',
  'epsilon-alpha2-beta1-flat',
  'preset-a',
  'preset-b',
  'preset-a-flat',
  'preset-b-flat',
] as const;
export type CompositeName = (typeof COMPOSITE_NAMES)[number];

/** Gradient baselines, run through the same engine in place of a composite (core/lrp/baselines.ts). */
export const BASELINE_NAMES = ['gradient', 'gradient-x-input', 'integrated-gradients', 'smoothgrad'] as const;
export type BaselineName = (typeof BASELINE_NAMES)[number];

/**
 * Compute backends (core/backend.ts); 'auto' picks one. 'onnxruntime' runs LRP as one compiled ONNX graph
 * (core/lrp-onnx) with tfjs-wasm under it for what does not lower; 'auto' prefers it the same way.
 * 'onnxruntime-webgpu' and 'onnxruntime-cuda' run that graph on ONNX Runtime's WebGPU or CUDA provider
 * (lrp-onnx/ort-providers.ts), only when asked for by name.
 */
export const BACKEND_NAMES = ['auto', 'onnxruntime', 'onnxruntime-webgpu', 'onnxruntime-cuda', 'wasm', 'cpu', 'tensorflow', 'tensorflow-gpu', 'webgpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/**
 * What kind of rule a rule is, whatever its parameters (core/lrp/rules.ts sets it on every rule): the
 * artifact checks reason about families (a z+ chain, a flat first layer), never about display names.
 * 'zplus' is alpha-beta with alpha 1, beta 0; 'alpha-beta' every other alpha/beta.
 */
export const RULE_FAMILIES = [
  'lrp0',
  'epsilon',
  'gamma',
  'alpha-beta',
  'zplus',
  'zbox',
  'w-square',
  'flat',
  'pass',
  'gradient',
  'norm',
  'split',
  'recurrent',
] as const;
export type RuleFamily = (typeof RULE_FAMILIES)[number];

/**
 * Rules for recurrent layers (family 'recurrent'; core/lrp/rules.ts maps each to its variant, lrp/recurrent.ts
 * and recurrent-alt.ts implement them): Arras's epsilon (the default) and its conservative form, the echo
 * state network rule, AttnLRP's uniform rule for products, and gradient x input.
 */
export const RECURRENT_RULE_NAMES = ['lstm-epsilon', 'lstm-conservative', 'esn', 'lstm-uniform', 'lstm-gradient-x-input'] as const;
export type RecurrentRuleName = (typeof RECURRENT_RULE_NAMES)[number];

function member<T extends string>(list: readonly T[]): (name: unknown) => name is T {
  // Array membership, never an object lookup: 'constructor' or '__proto__' is no name.
  return (name: unknown): name is T => typeof name === 'string' && (list as readonly string[]).includes(name);
}

export const isCompositeName = member(COMPOSITE_NAMES);
export const isBaselineName = member(BASELINE_NAMES);
export const isBackendName = member(BACKEND_NAMES);
