/**
 * The one place where model-layout arrays go back onto the data's grid, for every front end:
 *  - featuresOnGrid: a flatten "valid" input's feature vectors (an MLP on the ocean cells) back on the
 *    per-sample grid of the layout, other cells filled (the pipeline's own inverse, scatterFeatures);
 *  - a sequence input's (time, features) samples (a recurrent model fed the grid line by line) back on
 *    the per-sample grid (the pipeline's own inverse, sequenceToGrid);
 *  - the display grid (lat x lon): channels summed, a periodically wrapped longitude folded back (each
 *    copy's relevance added to its original cell, which conserves the total), lon-before-lat transposed.
 * A new input mode of the data pipeline (a field fed column by column, say) adds its inverse here.
 */
import { LensError } from '../errors.js';
import { scatterFeatures, sequenceToGrid, type ModelInput } from '../data/pipeline.js';

export interface DisplayGrid {
  /** Rows (lat) and columns (lon) of the data grid, in the data's coordinate order. */
  h: number;
  w: number;
  lat: number[];
  lon: number[];
  /** Model-input geometry: spatial dims (lat/lon order in the input), their sizes (lon with the wrap), channels. */
  inputDims: ('lat' | 'lon')[];
  inputShape: [number, number];
  channels: number;
  wrapLon: number;
  /** 1 = masked cell (land, missing), on the data grid; undefined when the project gives no mask. */
  masked?: Uint8Array;
  /** A flatten "valid" input: where each feature lies in the per-sample (input-layout) array. */
  scatter?: ModelInput['scatter'];
  /** Sequence mode (a recurrent model fed the grid line by line): how a (time, features) sample lies on the grid. */
  sequence?: ModelInput['sequence'];
}

/** The grid a ModelInput lies on; throws when the data have no lat/lon pair. */
export function displayGrid(input: ModelInput): DisplayGrid {
  const latC = input.coords.lat;
  const lonC = input.coords.lon;
  if (!latC || !lonC) throw new LensError('DATA_ERROR', 'the report draws maps on a lat/lon grid; the data have no latitude/longitude coordinates');
  const wrap = input.wrapLon ?? 0;
  const lonAll = Array.from(lonC.values);
  const lon = wrap > 0 ? lonAll.slice(wrap, lonAll.length - wrap) : lonAll;
  const lat = Array.from(latC.values);
  // Spatial dims in input order: from the layout (unflattened), else from the mask's dims, else the data's lat, lon.
  const perSample = input.dims.slice(1);
  let spatial = (input.scatter?.gridDims ?? input.sequence?.gridDims ?? perSample).filter((d) => d === latC.dim || d === lonC.dim);
  if (spatial.length !== 2) spatial = input.mask?.dims.filter((d) => d === latC.dim || d === lonC.dim) ?? [];
  if (spatial.length !== 2) spatial = [latC.dim, lonC.dim];
  const inputDims = spatial.map((d) => (d === latC.dim ? 'lat' : 'lon')) as ('lat' | 'lon')[];
  const size = (a: 'lat' | 'lon'): number => (a === 'lat' ? lat.length : lon.length + 2 * wrap);
  const inputShape: [number, number] = [size(inputDims[0]), size(inputDims[1])];
  const perCount = (input.scatter?.gridShape ?? input.sequence?.gridShape ?? input.x.shape.slice(1)).reduce((a, b) => a * b, 1);
  const channels = perCount / (inputShape[0] * inputShape[1]);
  if (!Number.isInteger(channels) || channels < 1) {
    throw new LensError('SHAPE_MISMATCH', `the model input has ${perCount} values per sample, not a multiple of the ${inputShape[0]}x${inputShape[1]} grid`);
  }
  const g: DisplayGrid = { h: lat.length, w: lon.length, lat, lon, inputDims, inputShape, channels, wrapLon: wrap, scatter: input.scatter, sequence: input.sequence };
  if (input.mask) {
    // The pipeline's mask is 1 = valid over the (wrapped) spatial axes; fold it to the data grid.
    const m = toGrid(g, Float32Array.from(input.mask.data, (v) => (v ? 0 : 1)), 1, false);
    g.masked = Uint8Array.from(m, (v) => (v > 0 ? 1 : 0));
  }
  return g;
}

/**
 * One sample's per-cell values (model-input layout, channels-last) on the data grid. `sumCopies`: add the
 * wrapped copies to their originals (relevance); otherwise take the original cell's value (inputs, masks).
 * `channelsIn` is the number of channels in `src` (1 for masks).
 */
export function toGrid(g: DisplayGrid, src: ArrayLike<number>, channelsIn = g.channels, sumCopies = true, offset = 0): Float64Array {
  const out = new Float64Array(g.h * g.w);
  const [n0, n1] = g.inputShape;
  const latFirst = g.inputDims[0] === 'lat';
  const wrap = g.wrapLon;
  for (let a = 0; a < n0; a++) {
    for (let b = 0; b < n1; b++) {
      const r = latFirst ? a : b;
      const cExt = latFirst ? b : a;
      const c = wrap > 0 ? (((cExt - wrap) % g.w) + g.w) % g.w : cExt;
      const isCopy = wrap > 0 && (cExt < wrap || cExt >= wrap + g.w);
      if (isCopy && !sumCopies) continue;
      let v = 0;
      const base = offset + (a * n1 + b) * channelsIn;
      for (let k = 0; k < channelsIn; k++) v += src[base + k];
      out[r * g.w + c] += v;
    }
  }
  return out;
}

/**
 * n model-layout samples on the per-sample grid of the layout: a flatten "valid" input's features back
 * on their cells (`fill` elsewhere: 0 for relevance, NaN for a file that reads as a map); any other
 * input is already on its grid and comes back as it is.
 */
export function featuresOnGrid(input: Pick<ModelInput, 'scatter'>, src: Float32Array, n: number, fill = 0): { data: Float32Array; perShape?: number[] } {
  const sc = input.scatter;
  if (!sc) return { data: src };
  return { data: scatterFeatures(sc, src, n, fill), perShape: sc.gridShape.slice() };
}

/** Every sample of a batch on the data grid: n x (h*w). */
export function batchToGrid(g: DisplayGrid, src: ArrayLike<number>, n: number, sumCopies = true): Float64Array[] {
  if (g.scatter) {
    const full = scatterFeatures(g.scatter, src, n);
    return batchToGrid({ ...g, scatter: undefined }, full, n, sumCopies);
  }
  if (g.sequence) return batchToGrid({ ...g, sequence: undefined }, sequenceToGrid(g.sequence, src, n), n, sumCopies);
  const per = g.inputShape[0] * g.inputShape[1] * g.channels;
  return Array.from({ length: n }, (_, s) => toGrid(g, src, g.channels, sumCopies, s * per));
}

/**
 * Fold the wrapped longitude copies of a channels-last batch back onto their cells, keeping the input's
 * axis order and channels: n x [n0, n1, C] -> n x [n0', n1', C] with the lon axis `wrapLon * 2` shorter.
 * `sumCopies` adds a copy's value to its original (relevance); otherwise copies are dropped (inputs, masks).
 */
export function foldWrap(g: DisplayGrid, src: ArrayLike<number>, n: number, channels: number, sumCopies: boolean): Float32Array {
  const [n0, n1] = g.inputShape;
  const wrap = g.wrapLon;
  const lonAxis = g.inputDims.indexOf('lon');
  const m0 = lonAxis === 0 ? g.w : n0;
  const m1 = lonAxis === 1 ? g.w : n1;
  const out = new Float32Array(n * m0 * m1 * channels);
  for (let s = 0; s < n; s++) {
    for (let a = 0; a < n0; a++) {
      for (let b = 0; b < n1; b++) {
        const ext = lonAxis === 0 ? a : b;
        const isCopy = ext < wrap || ext >= wrap + g.w;
        if (isCopy && !sumCopies) continue;
        const c = (((ext - wrap) % g.w) + g.w) % g.w;
        const [a2, b2] = lonAxis === 0 ? [c, b] : [a, c];
        const from = ((s * n0 + a) * n1 + b) * channels;
        const to = ((s * m0 + a2) * m1 + b2) * channels;
        for (let k = 0; k < channels; k++) out[to + k] += src[from + k];
      }
    }
  }
  return out;
}
