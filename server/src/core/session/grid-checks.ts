/**
 * What the relevance-map checks need from the data's grid, shared by the report, `lrp-lens check` and
 * the language server so all three judge a model alike: the LRP202 geometry control (a twin with the same
 * weights that changes only the padding) and the map context moved onto the data's grid (an MLP's ocean
 * cells scattered back, a wrapped longitude folded and marked periodic).
 */
import type { ModelGraph } from '../model/graph.js';
import type { NdArray } from '../array.js';
import type { ModelInput } from '../data/pipeline.js';
import type { MapContext } from '../artifacts/map-context.js';
import { circularLonTwin, validTwin } from '../artifacts/twins.js';
import { scatterContext } from '../artifacts/scatter-context.js';
import { displayGrid, type DisplayGrid } from './data-grid.js';
import { foldContext } from './fold-context.js';

/**
 * The LRP202 control that holds data and weights fixed and changes only the geometry: the `valid` twin
 * where the head allows it, else, on a grid spanning all longitudes (not wrapped by the pipeline), the
 * circular-longitude twin.
 */
export function geometryTwin(graph: ModelGraph, grid: DisplayGrid | undefined, x: NdArray): { name: string; graph: ModelGraph } | undefined {
  const valid = validTwin(graph);
  if (valid) return { name: 'valid twin (same weights)', graph: valid };
  if (!grid) return undefined;
  const span = grid.lon.length > 1 ? Math.abs(grid.lon[1] - grid.lon[0]) * grid.lon.length : 0;
  if (x.shape.length !== 4 || grid.wrapLon > 0 || Math.abs(span - 360) > 1e-6) return undefined;
  const circ = circularLonTwin(graph, (grid.inputDims.indexOf('lon') + 1) as 1 | 2);
  return circ ? { name: 'circular-longitude twin (same weights)', graph: circ } : undefined;
}

/** The data's lat/lon grid, or undefined when the input has none (an .npy, a field without coordinates). */
export function gridIfAny(input: Partial<Pick<ModelInput, 'coords' | 'wrapLon' | 'dims' | 'scatter' | 'mask'>> & Pick<ModelInput, 'x'>): DisplayGrid | undefined {
  if (!input.coords?.lat || !input.coords?.lon || !input.dims) return undefined;
  try {
    return displayGrid({ ...input, coords: input.coords, dims: input.dims } as ModelInput);
  } catch {
    return undefined;
  }
}

/** The context the checks judge: on the grid (scattered, folded, periodic longitude marked) where there is one. */
export function onDataGrid(ctx: MapContext, input: Pick<ModelInput, 'scatter'>, grid: DisplayGrid | undefined): MapContext {
  const c = input.scatter ? scatterContext(ctx, input.scatter) : ctx;
  return grid ? foldContext(c, grid) : c;
}
