/**
 * The tabs' rendering: each tab is drawn when shown, once per data change (hidden canvases have no
 * width, and drawing them costs time). The tab modules draw; this one decides when.
 */
import { renderSample, mapInput, mapRel } from './sample-view.js';
import { renderDataset, classMaps, mapMeanAbs } from './dataset-view.js';
import { renderCompare, mapA, mapB } from './compare-view.js';
import { renderConservation, renderFindings } from './report-views.js';
import { layoutMapRows, overlaysFor } from './map-draw.js';
import { panel } from './state.js';

export { renderSample, renderFindings };

export const TAB = { sample: 0, dataset: 1, compare: 2, conservation: 3, findings: 4 } as const;

/** What a click on a sample in the Data set table does (the controls set it: it changes the selection). */
let pickSample: (k: number) => void = () => undefined;
export function onPickSample(fn: (k: number) => void): void { pickSample = fn; }

/** Tabs drawn since the last data change. */
const fresh = new Set<number>();

export function renderTab(i: number): void {
  layoutMapRows();
  if (fresh.has(i)) return;
  fresh.add(i);
  if (i === TAB.sample) renderSample();
  else if (i === TAB.dataset) renderDataset(pickSample);
  else if (i === TAB.compare) renderCompare();
  else if (i === TAB.conservation) renderConservation();
}

/** New data or settings: draw the visible tab now, the others when shown. */
export function renderAll(): void {
  fresh.clear();
  renderTab(panel.state.tab);
}

// A new panel width may stack the maps or put them side by side again (the maps then redraw themselves).
let lastWidth = -1;
new ResizeObserver(() => {
  if (document.body.clientWidth === lastWidth) return;
  lastWidth = document.body.clientWidth;
  layoutMapRows();
}).observe(document.body);

/** The comparison changed: its tab is drawn afresh when shown. */
export function staleCompare(): void {
  fresh.delete(TAB.compare);
}

/** After a tab was shown or resized. */
export function redrawVisible(): void {
  if (panel.main) renderTab(panel.state.tab);
  if (panel.state.tab === TAB.conservation) renderConservation(); // the chart takes the box's width
}

/** Overlay toggles: same data, new overlays on every map. */
export function refreshOverlays(): void {
  if (!panel.main) return;
  const o = overlaysFor();
  for (const m of [mapInput, mapRel, mapA, mapB, mapMeanAbs, ...classMaps()]) m.setOverlays(o);
}

/** Overlay opacity on the overlaid relevance map (no raster rebuild). */
export function setOpacity(opacity: number): void {
  mapRel.setOpacity(opacity);
}

/** For tests and debugging: page coordinates of a cell's centre on one of the maps. */
export function cellCentre(which: 'rel' | 'input' | 'A' | 'B', row: number, col: number): [number, number] {
  const m = { rel: mapRel, input: mapInput, A: mapA, B: mapB }[which];
  const r = m.canvas.getBoundingClientRect();
  const [x, y] = m.cellCentre(row, col);
  return [r.left + x, r.top + y];
}
