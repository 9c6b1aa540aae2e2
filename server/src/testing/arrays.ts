/** Array helpers shared by tests: .npy files from disk and per-sample relative error. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readNpy } from '../core/data/npy.js';
import type { NdArray } from '../core/array.js';

/** Read a .npy file (the path is named in errors). */
export function readNpyFile(path: string): NdArray {
  return readNpy(new Uint8Array(readFileSync(path)), path);
}

/**
 * Largest |got - want| per sample, relative to that sample's largest |want|, worst over the samples
 * (the tolerance Zennit comparisons use: a sample's own scale, not 1).
 */
export function worstRelPerSample(got: ArrayLike<number>, want: ArrayLike<number>, samples: number): number {
  assert.equal(got.length, want.length);
  const per = want.length / samples;
  let worst = 0;
  for (let s = 0; s < samples; s++) {
    let scale = 0;
    let err = 0;
    for (let i = 0; i < per; i++) {
      scale = Math.max(scale, Math.abs(want[s * per + i]));
      err = Math.max(err, Math.abs(got[s * per + i] - want[s * per + i]));
    }
    worst = Math.max(worst, err / scale);
  }
  return worst;
}

/** Largest |got - want| relative to the largest |want|, over the whole array (one sample). */
export function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  return worstRelPerSample(got, want, 1);
}
