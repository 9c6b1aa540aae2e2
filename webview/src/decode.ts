/**
 * From a result as it arrives (encoded arrays in the model's layout) to what the views draw: per-sample
 * maps with the periodic longitude wrap undone, the mask, the geographic frame and the relevance's units.
 */
import { geoFrame, type GeoFrame } from '../../server/src/core/render/geo.js';
import { toMaps, unwrapBatch, unwrapColumns, type MapBatch } from './maps.js';
import { decodeBytes, decodeFloat32, type PanelResult } from './messages.js';
import { axesFromInfo, featureByTime, globeResult, sequenceAxes, sequenceMaps, type SequenceAxes } from './sequence.js';

/** A decoded result, ready to draw. */
export interface Shown {
  result: PanelResult;
  rel: MapBatch;
  inp?: MapBatch;
  outputs?: { data: Float32Array; classes: number };
  mask?: Uint8Array;
  geo?: { frame: GeoFrame; lat: number[]; lon: number[] };
  /** How the output relevance was initialised, for the colour bar's units. */
  init: 'one-hot' | 'output';
  /** A sequence (batch, time, features): the maps are features x time, time left to right. */
  seq?: SequenceAxes;
  /** A field fed line by line (the result's `sequence.toGrid`): the same samples on the globe. */
  globe?: Shown;
}

export function decode(result: PanelResult): Shown {
  // The server's `sequence` field says which axes are time and features; a result without it (an older
  // server, a hand-made one) is a sequence when it is rank 3 in a 1-D layout and no geographic field or grid.
  const ax = result.sequence
    ? axesFromInfo(result.sequence, result.relevance.shape)
    : result.coords || result.grid ? undefined : sequenceAxes(result.relevance.shape, result.layout);
  if (!ax) return decodeMap(result);
  const s = decodeSequence(result, ax);
  const g = globeResult(result);
  if (g) s.globe = decodeMap(g);
  return s;
}

function decodeSequence(result: PanelResult, ax: SequenceAxes): Shown {
  const rel = sequenceMaps(decodeFloat32(result.relevance), result.relevance.shape, ax);
  const inp = result.input && result.input.shape.join() === result.relevance.shape.join()
    ? sequenceMaps(decodeFloat32(result.input), result.input.shape, ax) : undefined;
  let mask = result.mask ? decodeBytes(result.mask) : undefined;
  mask = mask && mask.length === ax.steps * ax.features ? featureByTime(mask, ax) : undefined;
  return { result, rel, inp, outputs: outputsOf(result), mask, init: initOf(result), seq: ax };
}

function outputsOf(result: PanelResult): Shown['outputs'] {
  return result.outputs ? { data: decodeFloat32(result.outputs), classes: result.outputs.shape[1] ?? 1 } : undefined;
}

function initOf(result: PanelResult): Shown['init'] {
  const outs = result.conservation.outputRelevance ?? [];
  return outs.length > 0 && outs.every((v) => Math.abs(v - 1) < 1e-6) ? 'one-hot' : 'output';
}

function decodeMap(result: PanelResult): Shown {
  const relData = decodeFloat32(result.relevance);
  // A flattened input (an MLP on a grid) is drawn through the grid the server gives for it.
  const g = result.grid;
  const fits = (n: number) => !!g && g.shape.reduce((a, b) => a * b, 1) * result.relevance.shape[0] === n;
  const shapeOf = (a: { shape: number[] }, n: number) => (g && fits(n) ? [a.shape[0], ...g.shape] : a.shape);
  const layout = g && fits(relData.length) ? g.layout : result.layout;
  let rel = toMaps(relData, shapeOf(result.relevance, relData.length), layout, 'sum');
  const inData = result.input ? decodeFloat32(result.input) : undefined;
  let inp = result.input && inData ? toMaps(inData, shapeOf(result.input, inData.length), layout, 'first') : undefined;
  let mask: Uint8Array | undefined;
  if (result.mask) {
    mask = decodeBytes(result.mask);
    if (mask.length !== rel.height * rel.width) mask = undefined;
  }
  let lon = result.coords?.lon;
  // The periodic wrap's copied columns: relevance folds back onto the cells they copy, the rest is cropped.
  const wrap = result.wrapLon ?? 0;
  if (wrap > 0 && rel.width > 2 * wrap) {
    if (mask) mask = unwrapColumns(mask, rel.height, rel.width, wrap, 'crop');
    if (lon && lon.length === rel.width) lon = lon.slice(wrap, lon.length - wrap);
    rel = unwrapBatch(rel, wrap, 'fold');
    if (inp) inp = unwrapBatch(inp, wrap, 'crop');
  }
  let geo: Shown['geo'];
  if (result.coords && lon && result.coords.lat.length === rel.height && lon.length === rel.width) {
    const frame = geoFrame({ lat: result.coords.lat, lon });
    if (frame) geo = { frame, lat: result.coords.lat, lon };
  }
  return { result, rel, inp, outputs: outputsOf(result), mask, geo, init: initOf(result) };
}

export function unitsLabel(s: Shown): string {
  return s.init === 'one-hot' ? 'relevance (one-hot init: Σ R ≈ 1)' : 'relevance (output init: Σ R ≈ model output)';
}
