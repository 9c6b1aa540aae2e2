/**
 * PNG export of a panel view (one map, or maps side by side on a shared scale) with its colour bar,
 * titles and, in geographic mode, coastlines. Colours come from raster.ts, the same code the webview
 * draws with; sharp only places the rasters and renders the text and lines from an SVG layer.
 */
import sharp, { type OverlayOptions } from 'sharp';
import { type Limits } from './colormap.js';
import { cellRaster, effectiveMask, upscale, type RasterSpec } from './raster.js';
import { coastlinePath, regionRects, type GeoFrame, type RegionBox } from './geo.js';
import { colorbarLayer, labelLength, type ColorbarPlacement } from './colorbar-layer.js';
import { escapeXml as esc } from './escape.js';
import { LensError } from '../errors.js';

export interface PngPanel {
  title: string;
  spec: RasterSpec;
}

export interface PngView {
  panels: PngPanel[];
  /** Output pixels per cell; default: enough for about 720 pixels of width per panel, at least 1. */
  scale?: number;
  colorbar?: { limits: Limits; label: string; kind: 'diverging' | 'sequential' };
  /** Coastlines in geographic mode: the frame of the grid and a world-atlas topology; regions outlined on each panel. */
  geo?: { frame: GeoFrame; topology: unknown; regions?: RegionBox[] };
}

const MARGIN = 28;
const GAP = 24;
const BAR_W = 16;
const BAR_TEXT = 96;
const FONT = 11;

/**
 * Pixels of one PNG export (the whole canvas; each panel's raster is part of it). The canvas, the panel
 * rasters and sharp's working copy are about 12 bytes a pixel together: 32 M pixels stay under 400 MB.
 * The cell count alone is no bound: a 1 x 4096 map upscaled to 720 pixels a cell is 2 G pixels.
 */
export const RENDER_BUDGET = { pixels: 32 * 1024 * 1024, scale: 1024 } as const;

/** Layout of the output: where each panel and the colour bar go. */
export function pngLayout(view: PngView): { scale: number; width: number; height: number; panelW: number; panelH: number } {
  const first = view.panels[0]?.spec;
  if (!first) throw new LensError('BAD_INPUT', 'a PNG view needs at least one panel');
  if (!Number.isSafeInteger(first.width) || !Number.isSafeInteger(first.height) || first.width < 1 || first.height < 1) {
    throw new LensError('BAD_INPUT', `bad map size ${first.height}x${first.width}`);
  }
  if (view.scale !== undefined && (!Number.isInteger(view.scale) || view.scale < 1 || view.scale > RENDER_BUDGET.scale)) {
    throw new LensError('BAD_INPUT', `PNG scale must be an integer from 1 to ${RENDER_BUDGET.scale}, got ${view.scale}`);
  }
  const n = view.panels.length;
  const at = (scale: number) => {
    const panelW = first.width * scale;
    const panelH = first.height * scale;
    const width = MARGIN * 2 + n * panelW + (n - 1) * GAP + (view.colorbar ? GAP + BAR_W + BAR_TEXT : 0);
    // A short map (a few rows) still has room for the colour bar's whole label beside it.
    const label = view.colorbar ? labelLength(view.colorbar.label, FONT, panelH) + 8 : 0;
    const height = Math.max(MARGIN * 2 + panelH, Math.ceil(label));
    return { scale, width, height, panelW, panelH };
  };
  // The default scale (about 720 pixels of width per panel) shrinks until the view fits the budget;
  // a scale asked for explicitly is refused instead. Checked before any pixel is allocated.
  let scale = view.scale ?? Math.max(1, Math.floor(720 / first.width));
  if (view.scale === undefined) while (scale > 1 && at(scale).width * at(scale).height > RENDER_BUDGET.pixels) scale--;
  const L = at(scale);
  if (L.width * L.height > RENDER_BUDGET.pixels) {
    throw new LensError('BUDGET_EXCEEDED', `a PNG of ${L.width}x${L.height} pixels (${n} panel(s) of ${first.width}x${first.height} cells at ${scale} pixel(s) a cell): ${L.width * L.height}, over the render.pixels budget of ${RENDER_BUDGET.pixels}`);
  }
  return L;
}

/** The regions' outlines (black under white, as on the panel's maps) and names, in plot pixels. */
function regionsSvg(f: GeoFrame, regions: RegionBox[], w: number, h: number): string {
  const out: string[] = [];
  for (const g of regions) {
    const rects = regionRects(f, g, w, h);
    for (const q of rects) {
      const r = `x="${q.x0.toFixed(1)}" y="${q.y0.toFixed(1)}" width="${(q.x1 - q.x0).toFixed(1)}" height="${(q.y1 - q.y0).toFixed(1)}" fill="none"`;
      out.push(`<rect ${r} stroke="#000" stroke-width="3.5"/><rect ${r} stroke="#fff" stroke-width="1.5"/>`);
    }
    if (!rects[0]) continue;
    const y = rects[0].y0 >= 15 ? rects[0].y0 - 4 : rects[0].y0 + 13;
    out.push(`<text x="${(rects[0].x0 + 2).toFixed(1)}" y="${y.toFixed(1)}" font-family="DejaVu Sans, sans-serif" font-size="11" font-weight="bold" fill="#000" stroke="#fff" stroke-width="2.5" paint-order="stroke">${esc(g.name)}</text>`);
  }
  return out.join('');
}

/** Where the colour bar, its ticks and its label go in a view laid out as `L` (none without a colour bar). */
export function colorbarPlacement(view: PngView, L: ReturnType<typeof pngLayout>): ColorbarPlacement | undefined {
  if (!view.colorbar) return undefined;
  const left = MARGIN + view.panels.length * L.panelW + (view.panels.length - 1) * GAP + GAP;
  return { ...view.colorbar, left, top: MARGIN, width: BAR_W, height: L.panelH, textWidth: BAR_TEXT, labelInset: 8, fontSize: FONT, imageHeight: L.height };
}

/** Render a view to PNG bytes. */
export async function renderPng(view: PngView): Promise<Buffer> {
  const L = pngLayout(view);
  const composites: OverlayOptions[] = [];
  const svg: string[] = [];
  view.panels.forEach((p, k) => {
    const s = p.spec;
    if (s.width * L.scale !== L.panelW || s.height * L.scale !== L.panelH) throw new LensError('BAD_INPUT', 'panels of a view must share a grid size');
    const cells = cellRaster(s);
    const px = upscale(cells, s.width, s.height, L.scale, L.scale, effectiveMask(s), !!s.flipRows);
    const left = MARGIN + k * (L.panelW + GAP);
    composites.push({ input: Buffer.from(px.buffer, px.byteOffset, px.byteLength), raw: { width: L.panelW, height: L.panelH, channels: 4 }, left, top: MARGIN });
    svg.push(`<text x="${left}" y="${MARGIN - 8}" font-family="DejaVu Sans, sans-serif" font-size="13" fill="#222">${esc(p.title)}</text>`);
    if (view.geo) {
      const d = coastlinePath(view.geo.topology, view.geo.frame, L.panelW, L.panelH);
      svg.push(`<g transform="translate(${left},${MARGIN})"><path d="${d}" fill="none" stroke="#111" stroke-width="1"/>${regionsSvg(view.geo.frame, view.geo.regions ?? [], L.panelW, L.panelH)}</g>`);
    }
    svg.push(`<rect x="${left - 0.5}" y="${MARGIN - 0.5}" width="${L.panelW + 1}" height="${L.panelH + 1}" fill="none" stroke="#666"/>`);
  });
  const cb = colorbarPlacement(view, L);
  if (cb) {
    const layer = colorbarLayer(cb);
    composites.push(layer.composite);
    svg.push(...layer.svg);
  }
  composites.push({ input: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${L.width}" height="${L.height}">${svg.join('')}</svg>`), left: 0, top: 0 });
  return sharp({ create: { width: L.width, height: L.height, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 1 } } })
    .composite(composites)
    .png()
    .toBuffer();
}
