import { mulberry32 } from '../random.js';

/** Seeded uniform numbers in [-1, 1) (mulberry32): reproducible noise for SmoothGrad and tests. */
export function rng(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() * 2 - 1;
}
