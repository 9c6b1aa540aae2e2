/** The Zennit reference set (../shared/lrp-reference) as the engine tests read it: its index, files and composites. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REF } from './paths.js';
import type { ExplainerOptions } from '../core/lrp/engine.js';

export const referenceIndex = JSON.parse(readFileSync(join(REF, 'index.json'), 'utf8')) as {
  convention: { zbox_bounds: [number, number]; gamma: number };
  models: Record<string, { relevance: Record<string, unknown> }>;
};

/** Each reference model in three files: ONNX with NCHW input, Keras HDF5 and TF.js with NHWC input. */
export const REFERENCE_FILES: { file: string; layout: 'nchw' | 'nhwc' }[] = [
  { file: 'model.onnx', layout: 'nchw' },
  { file: 'model.h5', layout: 'nhwc' },
  { file: 'tfjs/model.json', layout: 'nhwc' },
];

/** Our composite for a reference relevance name (relevance_<name>_<layout>.npy). */
export function compositeFor(name: string): ExplainerOptions {
  const [low, high] = referenceIndex.convention.zbox_bounds;
  if (name === 'epsilon_1e-6') return { composite: 'epsilon', epsilon: 1e-6 };
  if (name === 'epsilon_plus') return { composite: 'epsilon-plus' };
  if (name === 'epsilon_gamma_box') return { composite: 'epsilon-gamma-box', low, high, gamma: referenceIndex.convention.gamma };
  throw new Error(`no composite mapping for reference ${name}`);
}
