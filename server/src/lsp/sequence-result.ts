/**
 * The explain result's `sequence` field: whether the model's input is a sequence (rank 3 in a 1-D
 * layout), which axes are time and features, what lrp-lens.json `input.sequence` says about the field it
 * came from, and the maps put back on that field's lat x lon grid, so the panel needs no guessing.
 */
import type { ModelGraph } from '../core/model/graph.js';
import type { SessionData } from '../core/session/data-source.js';
import { batchToGrid, displayGrid } from '../core/session/data-grid.js';
import type { EncodedArray, SequenceInfo } from '../protocol.js';

/**
 * The sequence description of a result whose relevance has `shape` (batch first) in `layout`, or
 * undefined when the input is no sequence. `rel` and `x` are the model-layout arrays (n x T x F for
 * NWC) before any other re-layout.
 */
export function sequenceInfo(graph: ModelGraph, shape: number[], layout: string | undefined, data: SessionData | undefined, rel: Float32Array, x: Float32Array | undefined): SequenceInfo | undefined {
  if (shape.length !== 3 || (layout !== 'NWC' && layout !== 'NCW')) return undefined;
  const timeAxis = layout === 'NWC' ? 1 : 2;
  const featureAxis = 3 - timeAxis;
  const first = graph.nodes.find((n) => n.kind === 'Recurrent');
  const info: SequenceInfo = { timeAxis, featureAxis, steps: shape[timeAxis], features: shape[featureAxis], recurrent: !!first };
  if (first?.kind === 'Recurrent' && first.params.direction === 'backward') info.backward = true;
  const seq = data?.input?.sequence;
  if (!seq) return info;
  info.timeDim = seq.timeDim;
  info.reverse = seq.reverse;
  info.featureDims = seq.gridDims.filter((d) => d !== seq.timeDim);
  // The pipeline's inverse works on (n, T, F) samples: channels-first sequences do not come from it.
  if (layout !== 'NWC') return info;
  try {
    const g = displayGrid(data!.input!);
    const n = shape[0];
    const cells = g.h * g.w;
    const flat = (maps: Float64Array[]): Float32Array => {
      const out = new Float32Array(n * cells);
      maps.forEach((m, s) => out.set(m, s * cells));
      return out;
    };
    info.toGrid = {
      relevance: encode(flat(batchToGrid(g, rel, n, true)), [n, g.h, g.w]),
      coords: { lat: g.lat.slice(), lon: g.lon.slice() },
    };
    if (x && x.length === rel.length) info.toGrid.input = encode(flat(batchToGrid(g, x, n, false)), [n, g.h, g.w]);
    if (g.masked) info.toGrid.mask = Buffer.from(g.masked).toString('base64');
  } catch {
    // No lat/lon pair (a sequence over other dims): the time x feature view only.
  }
  return info;
}

function encode(data: Float32Array, shape: number[]): EncodedArray {
  return { shape, dtype: 'float32', base64: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') };
}
