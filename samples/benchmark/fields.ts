/**
 * The labelled synthetic fields of the artifact benchmark: smooth noise on a 32x64 grid plus a bump of
 * known sign in a known signal region; the sign decides the label, so the truth of "where the fact is"
 * is known exactly. Seeded: the same seed gives the same fields.
 */
import { mulberry32 } from '../../server/src/core/random.js';

export const H = 32;
export const W = 64;
/** Signal region (rows, cols), half-open: interior, away from every border band. */
export const SIGNAL = { y0: 12, y1: 20, x0: 24, x1: 40 };

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
}

export function signalMask(): Uint8Array {
  const m = new Uint8Array(H * W);
  for (let y = SIGNAL.y0; y < SIGNAL.y1; y++) for (let x = SIGNAL.x0; x < SIGNAL.x1; x++) m[y * W + x] = 1;
  return m;
}

/** n fields [n, H, W, 1] and labels (1 where the bump is positive). */
export function makeFields(n: number, seed: number): { x: Float32Array; y: Int32Array } {
  const r = mulberry32(seed);
  const x = new Float32Array(n * H * W);
  const y = new Int32Array(n);
  const raw = new Float32Array(H * W);
  for (let s = 0; s < n; s++) {
    for (let i = 0; i < raw.length; i++) raw[i] = normal(r);
    // 3x3 box blur (wrapped in longitude) makes the noise smooth like an anomaly field.
    for (let yy = 0; yy < H; yy++)
      for (let xx = 0; xx < W; xx++) {
        let acc = 0, k = 0;
        for (let dy = -1; dy <= 1; dy++) {
          const py = yy + dy;
          if (py < 0 || py >= H) continue;
          for (let dx = -1; dx <= 1; dx++) { acc += raw[py * W + ((xx + dx + W) % W)]; k++; }
        }
        x[s * H * W + yy * W + xx] = (acc / k) * 1.5;
      }
    const label = r() < 0.5 ? 0 : 1;
    y[s] = label;
    const amp = (label ? 1 : -1) * (1.0 + 0.5 * r());
    for (let yy = SIGNAL.y0; yy < SIGNAL.y1; yy++) for (let xx = SIGNAL.x0; xx < SIGNAL.x1; xx++) x[s * H * W + yy * W + xx] += amp;
  }
  return { x, y };
}
