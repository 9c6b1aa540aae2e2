/**
 * Where things go on a map canvas, as pure functions of the pixels available (tested in Node): the plot
 * size for the width of its box, which axis ticks get a label so that no two labels overlap, and whether
 * maps side by side would be too narrow to read (then they stack, each as wide as the panel).
 */
import { degreeTicks, formatLat, formatLon, latToY, lonToX, type GeoFrame } from '../../server/src/core/render/geo.js';

/** Room around the plot on a map canvas (CSS px): tick labels left and below. */
export const MARGIN = { left: 46, right: 8, top: 6, bottom: 26 } as const;
/** Axis label font size (CSS px). */
export const FONT_PX = 11;
/** A colour bar canvas beside a map (canvas.colorbar in panel.css) and the gap between flex items. */
export const BAR_WIDTH = 110;
export const ITEM_GAP = 4;
/** Plots narrower than this side by side stack instead (a 89x180 map at 360 px has 2 px a cell). */
export const MIN_SIDE_PLOT = 360;
/** Least space between two tick labels (px). */
export const LABEL_GAP = 6;

export interface PlotSize { w: number; h: number }

/**
 * The plot's size in a box `boxWidth` wide: as wide as the box allows with the aspect kept, unless that
 * is taller than `maxHeight` (then the height is capped and the width follows). `heightRange` (sequences)
 * keeps the full width and clamps the height instead, so cells need not be square.
 */
export function plotSize(boxWidth: number, aspect: number, maxHeight: number, heightRange?: [number, number]): PlotSize {
  const cssW = Math.max(120, boxWidth);
  let w = cssW - MARGIN.left - MARGIN.right;
  let h = w * aspect;
  if (heightRange) h = Math.max(Math.min(heightRange[0], maxHeight), Math.min(heightRange[1], maxHeight, h));
  else if (h > maxHeight) { h = maxHeight; w = h / aspect; }
  return { w: Math.max(1, Math.round(w)), h: Math.max(1, Math.round(h)) };
}

/**
 * The tallest a map's plot may be in a viewport `viewportHeight` px tall: the full height less the
 * controls and caption above it, so one map is seen whole without scrolling, and never under 240 px.
 */
export function maxPlotHeight(viewportHeight: number): number {
  return Math.max(240, Math.round(viewportHeight - 220));
}

/**
 * Whether `maps` plots with `bars` colour bars fit side by side in `width` px with every plot at least
 * MIN_SIDE_PLOT wide; otherwise each map gets its own row.
 */
export function sideBySide(width: number, maps: number, bars: number): boolean {
  if (maps <= 1) return true;
  const items = maps + bars;
  const perMap = (width - bars * BAR_WIDTH - (items - 1) * ITEM_GAP) / maps;
  return perMap - MARGIN.left - MARGIN.right >= MIN_SIDE_PLOT;
}

export interface Tick {
  /** Position along the axis in plot pixels (x from the plot's left, y from its top). */
  at: number;
  label: string;
}

/** A label's box on the canvas (CSS px): x0 <= x < x1, y0 <= y < y1. */
export interface LabelBox { x0: number; y0: number; x1: number; y1: number }

/** Width of a label in CSS px at FONT_PX (the panel measures with its canvas; tests use an estimate). */
export type Measure = (text: string) => number;

/**
 * A generous estimate of a label's width in an 11 px sans-serif font (digits and degree signs are
 * about 0.6 em in DejaVu Sans and Segoe UI, capitals up to 0.75 em, W and M up to 1 em): for tests.
 */
export const estimateWidth: Measure = (s) => {
  let w = 0;
  for (const ch of s) w += /[MWmw]/.test(ch) ? 1.0 : /[A-Z]/.test(ch) ? 0.78 : /[il.,:;'|!]/.test(ch) ? 0.34 : 0.64;
  return w * FONT_PX;
};

/** Label boxes of the x axis (centred under each tick) and the y axis (right-aligned left of it). */
export function xLabelBox(t: Tick, plot: PlotSize, measure: Measure): LabelBox {
  const w = measure(t.label);
  const x = MARGIN.left + t.at;
  const y0 = MARGIN.top + plot.h + 6;
  return { x0: x - w / 2, y0, x1: x + w / 2, y1: y0 + FONT_PX + 2 };
}

export function yLabelBox(t: Tick, _plot: PlotSize, measure: Measure): LabelBox {
  const w = measure(t.label);
  const y = MARGIN.top + t.at;
  const x1 = MARGIN.left - 6;
  return { x0: x1 - w, y0: y - (FONT_PX + 2) / 2, x1, y1: y + (FONT_PX + 2) / 2 };
}

export function boxesIntersect(a: LabelBox, b: LabelBox): boolean {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

/**
 * Every k-th tick for the smallest k at which the labels, LABEL_GAP apart along the axis, do not touch,
 * after dropping ticks outside the plot or whose label would leave the canvas. Evenly spaced ticks stay
 * evenly spaced (60°E, 180°, 60°W rather than whichever labels happened to fit), counted from 0° where
 * that works.
 */
export function thinTicks(ticks: Tick[], box: (t: Tick) => LabelBox, axis: 'x' | 'y', bounds: LabelBox, extent: number): Tick[] {
  const inside = ticks.filter((t) => {
    if (t.at < -0.5 || t.at > extent + 0.5) return false;
    const b = box(t);
    return b.x0 >= bounds.x0 && b.x1 <= bounds.x1 && b.y0 >= bounds.y0 && b.y1 <= bounds.y1;
  });
  const lo = (b: LabelBox) => (axis === 'x' ? b.x0 : b.y0);
  const hi = (b: LabelBox) => (axis === 'x' ? b.x1 : b.y1);
  const clear = (kept: Tick[]) => {
    const boxes = kept.map(box).sort((a, b) => lo(a) - lo(b));
    return boxes.every((b, i) => i === 0 || lo(b) >= hi(boxes[i - 1]) + LABEL_GAP);
  };
  // The equator, the prime meridian or cell 0 keeps its label where some phase of every k-th tick has it.
  const zero = inside.findIndex((t) => t.label === '0°' || t.label === '0');
  for (let k = 1; k <= inside.length; k++) {
    const phases = zero >= 0 ? [zero % k, ...Array.from({ length: k }, (_, i) => i).filter((i) => i !== zero % k)] : [0];
    for (const o of phases) {
      const kept = inside.filter((_, i) => i % k === o);
      if (kept.length && clear(kept)) return kept;
    }
  }
  return [];
}

/** What the axes describe: a grid of cells, or a regular lat/lon frame. */
export interface AxisSpec {
  width: number;
  height: number;
  flipRows?: boolean;
  geo?: GeoFrame;
}

/** Row or column numbers at a round step giving about `target` of them. */
function indexTicks(n: number, target: number, pos: (i: number) => number): Tick[] {
  const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
  let k = steps.findIndex((s) => n / s <= Math.max(1, target));
  if (k < 0) k = steps.length - 1;
  // Two ticks at least where the axis has two cells (a step of n or more would label 0 alone).
  while (k > 0 && n > 1 && steps[k] >= n) k--;
  const step = steps[k];
  const out: Tick[] = [];
  for (let i = 0; i < n; i += step) out.push({ at: pos(i), label: String(i) });
  return out;
}

/** Degree ticks at about `target` a side, more where a round step gives fewer than two (90° on -89..89 gives only 0°). */
function atLeastTwo(lo: number, hi: number, target: number): number[] {
  let t = degreeTicks(lo, hi, target);
  for (let k = target + 1; t.length < 2 && k <= 40; k++) t = degreeTicks(lo, hi, k);
  return t;
}

/**
 * The labelled ticks of both axes for a plot of this size: as many as the pixels allow (about one per
 * 80 px across and 36 px down), thinned until no two labels overlap and every label stays on the canvas.
 */
export function axisTicks(spec: AxisSpec, plot: PlotSize, measure: Measure = estimateWidth): { x: Tick[]; y: Tick[] } {
  const { width: w, height: h } = spec;
  const targetX = Math.max(2, Math.floor(plot.w / 80));
  const targetY = Math.max(2, Math.floor(plot.h / 36));
  let xs: Tick[];
  let ys: Tick[];
  if (spec.geo) {
    const f = spec.geo;
    const east = f.lonWest + f.dLon * f.nLon;
    // lonToX wraps into the grid's range, which would put a tick on the east edge back at the west one.
    xs = atLeastTwo(f.lonWest, east, targetX).map((lon) => ({ at: lon >= east - 1e-9 ? plot.w : lonToX(f, lon, plot.w), label: formatLon(lon) }));
    ys = atLeastTwo(f.latNorth - f.dLat * f.nLat, f.latNorth, targetY).map((lat) => ({ at: latToY(f, lat, plot.h), label: formatLat(lat) }));
  } else {
    xs = indexTicks(w, targetX, (c) => (c + 0.5) * (plot.w / w));
    ys = indexTicks(h, targetY, (r) => ((spec.flipRows ? h - 1 - r : r) + 0.5) * (plot.h / h));
  }
  const canvas: LabelBox = { x0: 0, y0: 0, x1: MARGIN.left + plot.w + MARGIN.right, y1: MARGIN.top + plot.h + MARGIN.bottom };
  return {
    x: thinTicks(xs, (t) => xLabelBox(t, plot, measure), 'x', canvas, plot.w),
    y: thinTicks(ys, (t) => yLabelBox(t, plot, measure), 'y', canvas, plot.h),
  };
}
