/**
 * An echo state network in plain float64 arithmetic (no TensorFlow): a fixed, seeded leaky-integrator
 * reservoir
 *   x_t = (1 - a) x_{t-1} + a tanh(W_in u_t + b_in + W_res x_{t-1} + b_res),  x_0 = 0,
 * and a linear read-out y = W_out x_T + b_out of the last state, fitted in closed form by ridge
 * regression on one-hot class targets (the bias is not penalized). Layouts (row-major): W_in [N, F],
 * W_res [N, N], W_out [K, N]: the shapes of the `EsnWeights` that esn-onnx.ts saves.
 */
import { mulberry32 } from '../../server/src/core/random.js';

export interface EsnWeights {
  W_in: Float64Array;
  b_in: Float64Array;
  W_res: Float64Array;
  b_res: Float64Array;
  leak: number;
  W_out: Float64Array;
  b_out: Float64Array;
  /** Steps and features per step of the input sequence. */
  T: number;
  F: number;
}

export interface ReservoirSpec {
  units: number;
  features: number;
  /** Share of non-zero entries in W_res. */
  density: number;
  spectralRadius: number;
  /** W_in and b_in entries are uniform in [-inputScale, inputScale] and [-biasScale, biasScale]. */
  inputScale: number;
  biasScale: number;
  seed: number;
}

export interface Reservoir {
  N: number;
  F: number;
  W_in: Float64Array;
  b_in: Float64Array;
  W_res: Float64Array;
  b_res: Float64Array;
  /** The spectral radius of W_res before scaling (estimated, see spectralRadius). */
  rawRadius: number;
}

/**
 * Spectral radius of a square matrix from the growth rate of a power iteration (Gelfand's formula,
 * ||A^k v||^(1/k) -> rho): unlike the Rayleigh quotient it converges when the largest eigenvalues are a
 * complex pair, as they usually are for a random non-symmetric matrix. Growth is averaged over `steps`
 * after `burn` steps, so the error is about log(oscillation) / steps.
 */
export function spectralRadius(A: Float64Array, n: number, seed = 1, burn = 200, steps = 2000): number {
  const rand = mulberry32(seed);
  let v = Float64Array.from({ length: n }, () => rand() - 0.5);
  let logGrowth = 0;
  for (let k = 0; k < burn + steps; k++) {
    const w = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += A[i * n + j] * v[j];
      w[i] = s;
    }
    let norm = 0;
    for (const x of w) norm += x * x;
    norm = Math.sqrt(norm);
    if (!(norm > 0)) return 0;
    if (k >= burn) logGrowth += Math.log(norm);
    for (let i = 0; i < n; i++) w[i] /= norm;
    v = w;
  }
  return Math.exp(logGrowth / steps);
}

export function makeReservoir(s: ReservoirSpec): Reservoir {
  const rand = mulberry32(s.seed);
  const N = s.units;
  const uni = (scale: number) => (2 * rand() - 1) * scale;
  const W_res = new Float64Array(N * N);
  for (let i = 0; i < N * N; i++) if (rand() < s.density) W_res[i] = uni(1);
  const rawRadius = spectralRadius(W_res, N, s.seed + 1);
  for (let i = 0; i < W_res.length; i++) W_res[i] *= s.spectralRadius / rawRadius;
  const W_in = Float64Array.from({ length: N * s.features }, () => uni(s.inputScale));
  const b_in = Float64Array.from({ length: N }, () => uni(s.biasScale));
  return { N, F: s.features, W_in, b_in, W_res, b_res: new Float64Array(N), rawRadius };
}

/** Last reservoir state of each sample: x is [n, T, F] (float32 from the pipeline), the result [n, N]. */
export function lastStates(r: Pick<Reservoir, 'N' | 'F' | 'W_in' | 'b_in' | 'W_res' | 'b_res'>, leak: number, x: ArrayLike<number>, n: number, T: number): Float64Array {
  const { N, F, W_in, b_in, W_res, b_res } = r;
  const out = new Float64Array(n * N);
  const pre = new Float64Array(N);
  for (let s = 0; s < n; s++) {
    let h = new Float64Array(N);
    for (let t = 0; t < T; t++) {
      const u = (s * T + t) * F;
      for (let i = 0; i < N; i++) {
        let z = b_in[i] + b_res[i];
        for (let f = 0; f < F; f++) z += W_in[i * F + f] * x[u + f];
        for (let j = 0; j < N; j++) z += W_res[i * N + j] * h[j];
        pre[i] = z;
      }
      const next = new Float64Array(N);
      for (let i = 0; i < N; i++) next[i] = (1 - leak) * h[i] + leak * Math.tanh(pre[i]);
      h = next;
    }
    out.set(h, s * N);
  }
  return out;
}

/**
 * Ridge regression of one-hot targets on the states: minimizes ||S W^T + b - Y||^2 + lambda ||W||^2
 * (the bias unpenalized), solved by Cholesky on the (N+1) x (N+1) normal equations.
 */
export function fitReadout(S: Float64Array, n: number, N: number, labels: Int32Array, K: number, lambda: number): { W_out: Float64Array; b_out: Float64Array } {
  const D = N + 1;
  const A = new Float64Array(D * D);
  const B = new Float64Array(D * K);
  const row = new Float64Array(D);
  for (let s = 0; s < n; s++) {
    row.set(S.subarray(s * N, (s + 1) * N));
    row[N] = 1;
    for (let i = 0; i < D; i++) {
      const ri = row[i];
      if (ri === 0) continue;
      for (let j = 0; j < D; j++) A[i * D + j] += ri * row[j];
      B[i * K + labels[s]] += ri;
    }
  }
  for (let i = 0; i < N; i++) A[i * D + i] += lambda;
  const L = cholesky(A, D);
  const W_out = new Float64Array(K * N);
  const b_out = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    const w = solveCholesky(L, D, Float64Array.from({ length: D }, (_, i) => B[i * K + k]));
    for (let i = 0; i < N; i++) W_out[k * N + i] = w[i];
    b_out[k] = w[N];
  }
  return { W_out, b_out };
}

function cholesky(A: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) {
        if (!(s > 0)) throw new Error(`ridge normal equations not positive definite at ${i} (${s})`);
        L[i * n + i] = Math.sqrt(s);
      } else L[i * n + j] = s / L[j * n + j];
    }
  }
  return L;
}

function solveCholesky(L: Float64Array, n: number, b: Float64Array): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * y[k];
    y[i] = s / L[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * x[k];
    x[i] = s / L[i * n + i];
  }
  return x;
}

/** Read-out scores [n, K] of the states. */
export function readout(S: Float64Array, n: number, N: number, W_out: Float64Array, b_out: Float64Array): Float64Array {
  const K = b_out.length;
  const y = new Float64Array(n * K);
  for (let s = 0; s < n; s++) for (let k = 0; k < K; k++) {
    let v = b_out[k];
    for (let i = 0; i < N; i++) v += W_out[k * N + i] * S[s * N + i];
    y[s * K + k] = v;
  }
  return y;
}

export function argmaxAccuracy(y: Float64Array, labels: Int32Array, K: number): number {
  let ok = 0;
  for (let s = 0; s < labels.length; s++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (y[s * K + k] > y[s * K + best]) best = k;
    if (best === labels[s]) ok++;
  }
  return labels.length ? ok / labels.length : NaN;
}

/** Every weight rounded to float32, as the saved model holds them (so the reported accuracy is the file's). */
export function roundToFloat32(w: EsnWeights): EsnWeights {
  const f = (a: Float64Array) => Float64Array.from(Float32Array.from(a));
  return { ...w, W_in: f(w.W_in), b_in: f(w.b_in), W_res: f(w.W_res), b_res: f(w.b_res), W_out: f(w.W_out), b_out: f(w.b_out), leak: Math.fround(w.leak) };
}
