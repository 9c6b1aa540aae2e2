/**
 * PNG export of a panel view (one map, or maps side by side on a shared scale) with its colour bar,
 * titles and, in geographic mode, coastlines. Colours come from raster.ts, the same code the webview
 * draws with; sharp only places the rasters and renders the text and lines from an SVG layer.
 */
import sharp, { type OverlayOptions } from 'sharp';
import { type Limits } from './colormap.js';
import { cellRaster, effectiveMask, upscale, type RasterSpec } from './raster.js';
import { coastlinePath, type GeoFrame } from './geo.js';
import { colorbarLayer } from './colorbar-layer.js';
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
  /** Coastlines in geographic mode: the frame of the grid and a world-atlas topology. */
  geo?: { frame: GeoFrame; topology: unknown };
}

const MARGIN = 28;
const GAP = 24;
const BAR_W = 16;
const BAR_TEXT = 96;

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
    const height = MARGIN * 2 + panelH;
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
      svg.push(`<g transform="translate(${left},${MARGIN})"><path d="${d}" fill="none" stroke="#111" stroke-width="1"/></g>`);
    }
    svg.push(`<rect x="${left - 0.5}" y="${MARGIN - 0.5}" width="${L.panelW + 1}" height="${L.panelH + 1}" fill="none" stroke="#666"/>`);
  });
  if (view.colorbar) {
    const cb = view.colorbar;
    const bx = MARGIN + view.panels.length * L.panelW + (view.panels.length - 1) * GAP + GAP;
    const layer = colorbarLayer({ ...cb, left: bx, top: MARGIN, width: BAR_W, height: L.panelH, textWidth: BAR_TEXT, labelInset: 8, fontSize: 11 });
    composites.push(layer.composite);
    svg.push(...layer.svg);
  }
  composites.push({ input: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${L.width}" height="${L.height}">${svg.join('')}</svg>`), left: 0, top: 0 });
  return sharp({ create: { width: L.width, height: L.height, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 1 } } })
    .composite(composites)
    .png()
    .toBuffer();
}
