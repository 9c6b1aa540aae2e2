/**
 * Sequence mode (`input.sequence`), for recurrent models fed a field column by column: each sample's grid
 * (over the layout, say lat x lon [x channel]) becomes a (time, features) array. Time is the named dim,
 * reversed when asked; the features of a step are the remaining grid dims flattened in layout order
 * (channel last by default). `sequenceToGrid` is the inverse, for relevance computed on the sequence.
 */
import { KeyedError } from '../keyed.js';
import type { ModelEntry } from '../project.js';
import { suggest } from '../similar.js';
import { product } from '../source.js';
import type { SampleAxes } from './axes.js';
import { P } from './entry.js';

/** How a per-sample grid became a sequence (what ModelInput carries). */
export interface SequenceGrid {
  /** The grid dim that is the time axis. */
  timeDim: string;
  /** Time runs from the dim's last index to its first. */
  reverse: boolean;
  /** The per-sample grid's dims and shape (the layout, wrap included). */
  gridDims: string[];
  gridShape: number[];
}

/** The plan of the sequence: the grid, the feature dims and the per-sample shape [T, F]. */
export interface SequenceLayout extends SequenceGrid {
  featureDims: string[];
  shape: [number, number];
}

export function planSequence(e: ModelEntry, axes: SampleAxes, layout: string[], sampleShape: number[]): SequenceLayout {
  const spec = e.input.sequence!;
  const timeDim = axes.alias(spec.time);
  const dims = layout.filter((d) => d !== axes.CH);
  if (!dims.includes(timeDim)) {
    throw new KeyedError('UNKNOWN_VARIABLE', `no per-sample dim '${spec.time}' to run the sequence along (per-sample dims: ${dims.join(', ') || 'none'}).${suggest(spec.time, dims, 'dims')}`, P(e, 'input', 'sequence', 'time'));
  }
  const k = layout.indexOf(timeDim);
  const T = sampleShape[k];
  return {
    timeDim,
    reverse: spec.reverse ?? false,
    gridDims: layout.slice(),
    gridShape: sampleShape.slice(),
    featureDims: layout.filter((d) => d !== timeDim),
    shape: [T, product(sampleShape) / T],
  };
}

/** The grid split around the time axis: outer (dims before it), T, inner (dims after it). */
function split(seq: SequenceGrid): { outer: number; T: number; inner: number } {
  const k = seq.gridDims.indexOf(seq.timeDim);
  if (k < 0) throw new RangeError(`sequence time dim ${seq.timeDim} is not among the grid dims ${seq.gridDims.join(', ')}`);
  return { outer: product(seq.gridShape.slice(0, k)), T: seq.gridShape[k], inner: product(seq.gridShape.slice(k + 1)) };
}

/**
 * Visit every value of n samples: `g` its index in the (n, ...gridShape) array, `q` in the (n, T, F) one.
 * Feature f of step t is the grid value at (outer o, time, inner i) with f = o * inner + i.
 */
function eachValue(seq: SequenceGrid, n: number, visit: (g: number, q: number) => void): void {
  const { outer, T, inner } = split(seq);
  const F = outer * inner;
  const per = F * T;
  for (let s = 0; s < n; s++) {
    for (let o = 0; o < outer; o++) {
      for (let t = 0; t < T; t++) {
        const step = seq.reverse ? T - 1 - t : t;
        const g = s * per + (o * T + t) * inner;
        const q = s * per + step * F + o * inner;
        for (let i = 0; i < inner; i++) visit(g + i, q + i);
      }
    }
  }
}

/** n per-sample grids (n x gridShape, C order) -> n sequences (n x T x F). */
export function gridToSequence(seq: SequenceGrid, grid: Float32Array, n: number): Float32Array {
  const out = new Float32Array(grid.length);
  eachValue(seq, n, (g, q) => (out[q] = grid[g]));
  return out;
}

/**
 * A batch of n sequences (n x T x F, what a recurrent model fed this input takes, or its relevance) back
 * on the per-sample grid (n x gridShape over gridDims, C order): the inverse of the sequence mode.
 */
export function sequenceToGrid(seq: SequenceGrid, src: ArrayLike<number>, n: number): Float32Array {
  const size = product(seq.gridShape);
  if (src.length !== n * size) {
    throw new RangeError(`${src.length} values are not ${n} sequence(s) of ${split(seq).T} steps over the grid [${seq.gridShape}] (${n * size} values)`);
  }
  const out = new Float32Array(n * size);
  eachValue(seq, n, (g, q) => (out[g] = src[q]));
  return out;
}
