/**
 * What every map view shares: colour limits under the user's settings, the artifact overlays of the
 * findings, a MapCanvas draw for a shown result, and linked cursors between two maps.
 */
import land from 'world-atlas/land-110m.json' with { type: 'json' };
import { relevanceLimits, sharedLimits, type Limits } from '../../server/src/core/render/colormap.js';
import { describeCell, type AxisNames, type MapCanvas, type MapDraw, type MapOverlays } from './heatmap.js';
import { overlayGeometry } from './maps.js';
import { sideBySide } from './layout.js';
import { $ } from './dom.js';
import { panel } from './state.js';
import type { Shown } from './decode.js';

/** One map's limits, or limits shared by several (so they compare on one scale). */
export function limitsFor(maps: Float32Array[], mask?: Uint8Array): Limits {
  const opts = { symmetric: panel.state.symmetric, percentile: panel.state.percentile, mask };
  return maps.length === 1 ? relevanceLimits(maps[0], opts) : sharedLimits(maps, opts);
}

export function overlaysFor(): MapOverlays {
  const g = overlayGeometry(panel.findings);
  const o = panel.state.overlays;
  return {
    band: o.border ? g.band : undefined,
    stride: o.stride ? g.stride : undefined,
    phase: g.phase,
    hatch: o.mask,
  };
}

/** Rows and columns of a sequence's features x time maps. */
export const SEQUENCE_AXES: AxisNames = { row: 'feature', col: 'step' };

/** Height range of a sequence's map (CSS px): the width is the panel's, the cells need not be square. */
const SEQUENCE_HEIGHT: [number, number] = [96, 320];

export function drawFor(s: Shown, spec: Omit<MapDraw['spec'], 'width' | 'height' | 'flipRows' | 'mask'>): MapDraw {
  return {
    spec: { width: s.rel.width, height: s.rel.height, flipRows: s.geo?.frame.flipRows, mask: s.mask, ...spec },
    overlays: overlaysFor(),
    geo: s.geo ? { ...s.geo, topology: land } : undefined,
    regions: s.geo ? s.result.regions : undefined,
    ...(s.seq ? { heightRange: SEQUENCE_HEIGHT, axes: SEQUENCE_AXES } : {}),
  };
}

/** Hovering one map of a pair moves the cursor on the other, so values can be read at the same cell. */
export function link(a: MapCanvas, b: MapCanvas | undefined, units: () => string | undefined): void {
  a.onCell = (info) => {
    $('readout').textContent = info ? describeCell(info, units()) : '';
    if (b && info) { b.cursor = [info.row, info.col]; b.redraw(); }
  };
}

/**
 * Maps side by side while each plot keeps MIN_SIDE_PLOT px (layout.ts); in a narrower panel (beside an
 * editor) each map and its colour bar get a row of their own, as wide as the panel. Call before drawing
 * (the maps size themselves from their boxes) and when the panel's width changes.
 */
export function layoutMapRows(): void {
  for (const row of Array.from(document.querySelectorAll<HTMLElement>('.maps'))) {
    const width = row.clientWidth;
    if (width === 0) continue; // a hidden tab: laid out when shown
    const maps = row.querySelectorAll(':scope > figure:not([hidden])').length;
    const bars = row.querySelectorAll(':scope > canvas.colorbar:not([hidden])').length;
    row.classList.toggle('stacked', !sideBySide(width, maps, bars));
  }
}
