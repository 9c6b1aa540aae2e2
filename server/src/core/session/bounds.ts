/**
 * The ZBox bounds of epsilon-gamma-box's first layer: one rule for every
 * front end and every data source, a raw .npy included. Given low/high win; a missing one is the data's own
 * range (min/max over every value of the data the session resolved, not only the explained samples, so a
 * sample's map does not depend on which other samples are shown).
 */
export interface Bounds {
  low: number | number[];
  high: number | number[];
  /** 'given': both from the choice; 'data': at least one from the data's range. */
  from: 'given' | 'data';
}

/** Whether the composite's rules read low/high (a rule map's zbox carries its own: 'zbox:-5:5'). */
export function needsBounds(composite: string): boolean {
  return composite === 'epsilon-gamma-box';
}

/** [min, max] of the values (NaN skipped); [0, 0] for no finite value. */
export function dataRange(a: ArrayLike<number>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [0, 0];
}

/** The bounds for a choice on the data (undefined when no ZBox rule is used). */
export function boxBounds(choice: { composite: string; low?: number | number[]; high?: number | number[] }, data: ArrayLike<number> | undefined): Bounds | undefined {
  if (!needsBounds(choice.composite)) return undefined;
  if (choice.low !== undefined && choice.high !== undefined) return { low: choice.low, high: choice.high, from: 'given' };
  if (!data) return undefined; // no data: the engine's default (-3..3) is all there is
  const [lo, hi] = dataRange(data);
  return { low: choice.low ?? lo, high: choice.high ?? hi, from: 'data' };
}
