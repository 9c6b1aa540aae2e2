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
  /** Height of the whole image: the label's centre moves off the bar's middle to stay inside it. */
  imageHeight?: number;
}

/** A box in image pixels: x0 <= x < x1, y0 <= y < y1. */
export interface TextBox { x0: number; y0: number; x1: number; y1: number }

/**
 * Advance width of `text` in DejaVu Sans (the font the SVG layer names) at `fontSize` px, from the
 * font's widths rounded up per character class, so the estimate is never short of the drawn text.
 */
export function textWidth(text: string, fontSize: number): number {
  let em = 0;
  for (const ch of text) {
    if (ch === ' ') em += 0.32;
    else if (/[il.,:;'|!ijtf()[\]]/.test(ch)) em += 0.4;
    else if (/[mwMW]/.test(ch)) em += 1.0;
    else if (/[A-Z]/.test(ch)) em += 0.8;
    else if (/[+=<>≈×±~^]/.test(ch)) em += 0.84;
    else em += 0.66; // lower case, digits, Σ, σ, °, -, /
  }
  return em * fontSize;
}

/** Space between two lines of the rotated label (px per px of font). */
const LINE = 1.25;

/**
 * The label as drawn beside a bar `room` px long: one line when it fits, else two, split at the space
 * nearest the middle (a label is never cut: the image grows to the longer line instead).
 */
export function labelLines(label: string, fontSize: number, room: number): string[] {
  if (textWidth(label, fontSize) <= room) return [label];
  let best = -1;
  for (let i = label.indexOf(' '); i >= 0; i = label.indexOf(' ', i + 1)) {
    if (best < 0 || Math.abs(i - label.length / 2) < Math.abs(best - label.length / 2)) best = i;
  }
  return best < 0 ? [label] : [label.slice(0, best), label.slice(best + 1)];
}

/** How tall an image must be for this label beside a bar `room` px long: its longer line and a margin. */
export function labelLength(label: string, fontSize: number, room: number): number {
  return Math.max(...labelLines(label, fontSize, room).map((l) => textWidth(l, fontSize)));
}

/**
 * The bar, its ticks and its label, rotated a quarter turn clockwise (reading downwards, the letters'
 * tops towards the right); `labelBox` is where the label's text lies, for layouts and tests.
 */
export function colorbarLayer(c: ColorbarPlacement): { composite: OverlayOptions; svg: string[]; labelBox: TextBox } {
  const bar = colorbarRaster(c.kind === 'diverging' ? DIVERGING : SEQUENTIAL, c.height, c.width, true);
  const composite: OverlayOptions = { input: Buffer.from(bar.buffer, bar.byteOffset, bar.byteLength), raw: { width: c.width, height: c.height, channels: 4 }, left: c.left, top: c.top };
  const svg: string[] = [];
  const font = `font-family="DejaVu Sans, sans-serif" font-size="${c.fontSize}"`;
  const x = c.left + c.width;
  const all = c.kind === 'diverging' ? colorbarTicks(c.limits) : [c.limits.vmin, (c.limits.vmin + c.limits.vmax) / 2, c.limits.vmax];
  // A short bar keeps every other tick (the ends and the middle) so their labels do not overlap.
  const ticks = all.length > 3 && c.height / (all.length - 1) < c.fontSize + 3 ? all.filter((_, i) => i % 2 === 0) : all;
  for (const t of ticks) {
    const y = c.top + valueToBarY(t, c.limits, c.height, c.kind);
    svg.push(`<line x1="${x}" x2="${x + 4}" y1="${y}" y2="${y}" stroke="#222"/>`);
    svg.push(`<text x="${x + 6}" y="${y + 4}" ${font} fill="#222">${esc(formatValue(t))}</text>`);
  }
  const lines = labelLines(c.label, c.fontSize, c.height);
  const len = Math.max(...lines.map((l) => textWidth(l, c.fontSize)));
  // Centred on the bar, moved only as far as keeps the whole label inside the image.
  let cy = c.top + c.height / 2;
  if (c.imageHeight !== undefined) cy = Math.min(Math.max(cy, len / 2 + 2), c.imageHeight - len / 2 - 2);
  const bx = x + c.textWidth - c.labelInset;
  // The text's "down" is the image's left: line i sits i line-heights left of the first.
  const gap = c.fontSize * LINE;
  lines.forEach((line, i) => {
    svg.push(`<text transform="translate(${bx - i * gap},${cy}) rotate(90)" text-anchor="middle" ${font} fill="#222">${esc(line)}</text>`);
  });
  // Ascent right of the baseline (the letters' tops), descent left of it, as DejaVu Sans has them.
  const labelBox = { x0: bx - (lines.length - 1) * gap - 0.24 * c.fontSize, y0: cy - len / 2, x1: bx + 0.93 * c.fontSize, y1: cy + len / 2 };
  return { composite, svg, labelBox };
}
