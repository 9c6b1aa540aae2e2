/**
 * The colour bar of a PNG figure (panel export and report maps): the bar raster for sharp to place and
 * the SVG of its ticks, tick labels and rotated label, so both figures draw the same scale the same way.
 */
import type { OverlayOptions } from 'sharp';
import { DIVERGING, SEQUENTIAL, colorbarTicks, formatValue, valueToBarY, type Limits } from './colormap.js';
import { colorbarRaster } from './raster.js';
import { escapeXml as esc } from './escape.js';

export interface ColorbarPlacement {
  kind: 'diverging' | 'sequential';
  limits: Limits;
  label: string;
  /** Top-left corner of the bar and its size in pixels. */
  left: number;
  top: number;
  width: number;
  height: number;
  /** Room right of the bar for tick labels and the label; the label's centre sits `labelInset` in from its far edge. */
  textWidth: number;
  labelInset: number;
  fontSize: number;
}

export function colorbarLayer(c: ColorbarPlacement): { composite: OverlayOptions; svg: string[] } {
  const bar = colorbarRaster(c.kind === 'diverging' ? DIVERGING : SEQUENTIAL, c.height, c.width, true);
  const composite: OverlayOptions = { input: Buffer.from(bar.buffer, bar.byteOffset, bar.byteLength), raw: { width: c.width, height: c.height, channels: 4 }, left: c.left, top: c.top };
  const svg: string[] = [];
  const font = `font-family="DejaVu Sans, sans-serif" font-size="${c.fontSize}"`;
  const x = c.left + c.width;
  const ticks = c.kind === 'diverging' ? colorbarTicks(c.limits) : [c.limits.vmin, (c.limits.vmin + c.limits.vmax) / 2, c.limits.vmax];
  for (const t of ticks) {
    const y = c.top + valueToBarY(t, c.limits, c.height, c.kind);
    svg.push(`<line x1="${x}" x2="${x + 4}" y1="${y}" y2="${y}" stroke="#222"/>`);
    svg.push(`<text x="${x + 6}" y="${y + 4}" ${font} fill="#222">${esc(formatValue(t))}</text>`);
  }
  svg.push(`<text transform="translate(${x + c.textWidth - c.labelInset},${c.top + c.height / 2}) rotate(90)" text-anchor="middle" ${font} fill="#222">${esc(c.label)}</text>`);
  return { composite, svg };
}
