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

/** Layout of the output: where each panel and the colour bar go. */
export function pngLayout(view: PngView): { scale: number; width: number; height: number; panelW: number; panelH: number } {
  const first = view.panels[0]?.spec;
  if (!first) throw new Error('a PNG view needs at least one panel');
  const scale = view.scale ?? Math.max(1, Math.floor(720 / first.width));
  const panelW = first.width * scale;
  const panelH = first.height * scale;
  const n = view.panels.length;
  const width = MARGIN * 2 + n * panelW + (n - 1) * GAP + (view.colorbar ? GAP + BAR_W + BAR_TEXT : 0);
  const height = MARGIN * 2 + panelH;
  return { scale, width, height, panelW, panelH };
}

/** Render a view to PNG bytes. */
export async function renderPng(view: PngView): Promise<Buffer> {
  const L = pngLayout(view);
  const composites: OverlayOptions[] = [];
  const svg: string[] = [];
  view.panels.forEach((p, k) => {
    const s = p.spec;
    if (s.width * L.scale !== L.panelW || s.height * L.scale !== L.panelH) throw new Error('panels of a view must share a grid size');
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
