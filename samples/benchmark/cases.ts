/**
 * The benchmark's labelled pairs: for each relevance-map check, the variant (model + composite) that
 * carries the artifact and the one that does not. Shared by the calibration script and the tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RuleMapEntry } from '../../server/src/core/lrp/composites.js';
import { SAMPLES } from '../../server/src/testing/paths.js';

/** The source folder (also when this file runs compiled from out/). */
export const BENCH_DIR = join(SAMPLES, 'benchmark');

export interface Case {
  variant: string;
  composite: string;
  ruleMap?: RuleMapEntry[];
  /** Cells marked as masked (LRP209): the case fills them before explaining. */
  masked?: 'fill-constant' | 'fill-zero' | 'nan';
}

export interface Pair {
  code: string;
  positive: Case;
  negative: Case;
  what: string;
}

const FLAT_FIRST: RuleMapEntry[] = [{ first: true, rule: 'flat' }];
const ZPLUS_ALL: RuleMapEntry[] = [{ kind: 'linear', rule: 'zplus' }];

export const PAIRS: Pair[] = [
  { code: 'LRP201', what: 'BN after the activation (an unmerged affine layer) vs BN before it (merged)', positive: { variant: 'bn-after', composite: 'epsilon' }, negative: { variant: 'bn-before', composite: 'epsilon' } },
  { code: 'LRP202', what: 'same vs valid padding', positive: { variant: 'pad-same', composite: 'epsilon' }, negative: { variant: 'pad-valid', composite: 'epsilon' } },
  { code: 'LRP203', what: 'stride 2 k=3 vs the k=4 remedy', positive: { variant: 'stride2-k3', composite: 'epsilon' }, negative: { variant: 'stride2-k4', composite: 'epsilon' } },
  { code: 'LRP204', what: 'max vs average pooling', positive: { variant: 'pool-max', composite: 'epsilon' }, negative: { variant: 'pool-avg', composite: 'epsilon' } },
  { code: 'LRP205', what: 'epsilon-plus (z+ convs, epsilon dense) vs z+ everywhere', positive: { variant: 'deep-cnn', composite: 'epsilon-plus' }, negative: { variant: 'deep-cnn', composite: 'epsilon', ruleMap: ZPLUS_ALL } },
  { code: 'LRP206', what: 'z+ chain (epsilon-plus on five convs) vs epsilon', positive: { variant: 'deep-cnn', composite: 'epsilon-plus' }, negative: { variant: 'deep-cnn', composite: 'epsilon' } },
  { code: 'LRP207', what: 'flat rule on the MLP first layer vs epsilon', positive: { variant: 'mlp-relu', composite: 'epsilon', ruleMap: FLAT_FIRST }, negative: { variant: 'mlp-relu', composite: 'epsilon' } },
  { code: 'LRP208', what: 'flat first layer (a prior independent of x) vs epsilon', positive: { variant: 'mlp-relu', composite: 'epsilon', ruleMap: FLAT_FIRST }, negative: { variant: 'mlp-relu', composite: 'epsilon' } },
  { code: 'LRP209', what: 'masked cells filled with a constant 3 vs with 0 (no-data anomaly)', positive: { variant: 'pad-valid', composite: 'epsilon', masked: 'fill-constant' }, negative: { variant: 'pad-valid', composite: 'epsilon', masked: 'fill-zero' } },
  { code: 'LRP210', what: 'linear MLP vs ReLU CNN', positive: { variant: 'mlp-linear', composite: 'epsilon' }, negative: { variant: 'stride1-k3', composite: 'epsilon' } },
  { code: 'LRP211', what: 'missing cells left as NaN vs filled with 0', positive: { variant: 'pad-valid', composite: 'epsilon', masked: 'nan' }, negative: { variant: 'pad-valid', composite: 'epsilon', masked: 'fill-zero' } },
];

/** A block of "land" cells away from the signal region (LRP209 cases). */
export function landMask(h: number, w: number): Uint8Array {
  const m = new Uint8Array(h * w);
  for (let y = 2; y < 10; y++) for (let x = 46; x < 60; x++) m[y * w + x] = 1;
  return m;
}

/** The variant's model file; with a seed, its seeded copy (make-benchmark.ts --seeds). */
export function modelPath(variant: string, seed?: number): string {
  return join(BENCH_DIR, 'models', seed === undefined ? variant : `${variant}-s${seed}`, 'model.json');
}

export function readMeta(): Record<string, { testAccuracy: number }> {
  return JSON.parse(readFileSync(join(BENCH_DIR, 'meta.json'), 'utf8'));
}
