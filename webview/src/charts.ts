/** The colour bar (with units) and the conservation chart, drawn on canvases with theme colours. */
import { colorbarRaster, DIVERGING, SEQUENTIAL } from '../../server/src/core/render/raster.js';
import { colorOf, colorbarTicks, formatValue, valueToBarY, LUT_MAX, type Limits } from '../../server/src/core/render/colormap.js';
import { gridCanvas } from './heatmap.js';
import { axisTicks } from './layout.js';

function themeColor(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

function sizeCanvas(c: HTMLCanvasElement, w: number, h: number): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  c.width = Math.round(w * dpr);
  c.height = Math.round(h * dpr);
  c.style.width = `${w}px`;
  c.style.height = `${h}px`;
  const ctx = c.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return ctx;
}

export const BAR = { top: 6, width: 16, left: 4 };

/** A vertical colour bar: the maximum at the top, ticks at the limits, their halves and zero. */
export function drawColorbar(c: HTMLCanvasElement, lim: Limits, label: string, height: number, kind: 'diverging' | 'sequential' = 'diverging'): void {
  const len = Math.max(20, Math.round(height - BAR.top - 26));
  const ctx = sizeCanvas(c, 110, height);
  const bar = gridCanvas(1, len, colorbarRaster(kind === 'diverging' ? DIVERGING : SEQUENTIAL, len, 1, true));
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(bar, BAR.left, BAR.top, BAR.width, len);
  const fg = themeColor('--vscode-foreground', '#333');
  ctx.strokeStyle = fg;
  ctx.strokeRect(BAR.left - 0.5, BAR.top - 0.5, BAR.width + 1, len + 1);
  ctx.fillStyle = fg;
  ctx.font = `11px ${themeColor('--vscode-font-family', 'sans-serif')}`;
  ctx.textBaseline = 'middle';
  ctx.beginPath();
  const ticks = kind === 'diverging' ? colorbarTicks(lim) : [lim.vmin, (lim.vmin + lim.vmax) / 2, lim.vmax];
  for (const t of ticks) {
    const y = BAR.top + valueToBarY(t, lim, len, kind) + 0.5;
    ctx.moveTo(BAR.left + BAR.width, y);
    ctx.lineTo(BAR.left + BAR.width + 4, y);
    ctx.fillText(formatValue(t), BAR.left + BAR.width + 6, y);
  }
  ctx.stroke();
  ctx.save();
  ctx.translate(104, BAR.top + len / 2);
  ctx.rotate(Math.PI / 2);
  ctx.textAlign = 'center';
  // A short bar (a sequence of few features): a smaller font, then two lines, and only then an ellipsis,
  // rather than a clipped label (the PNG drawn from these canvases keeps the label whole where it can).
  const font = themeColor('--vscode-font-family', 'sans-serif');
  for (let px = 10; px >= 8 && ctx.measureText(label).width > len; px--) ctx.font = `${px}px ${font}`;
  const lines = ctx.measureText(label).width > len ? splitLabel(label) : [label];
  const fitted = lines.map((line) => {
    let text = line;
    while (text.length > 1 && ctx.measureText(text).width > len) text = `${text.slice(0, -2)}…`;
    return text;
  });
  // Rotated a quarter turn clockwise, the text's "down" is the canvas's left: a second line goes left
  // of the first, still right of the tick labels.
  fitted.forEach((text, i) => ctx.fillText(text, 0, i * 11));
  ctx.restore();
  c.setAttribute('aria-label', kind === 'diverging'
    ? `Colour bar: ${label}, from ${formatValue(lim.vmin)} (blue) through 0 (white) to ${formatValue(lim.vmax)} (red)`
    : `Colour bar: ${label}, from ${formatValue(lim.vmin)} (dark blue) to ${formatValue(lim.vmax)} (yellow)`);
}

/** A label in two lines, split at the space nearest its middle (one line when it has no space). */
export function splitLabel(label: string): string[] {
  let best = -1;
  for (let i = label.indexOf(' '); i >= 0; i = label.indexOf(' ', i + 1)) {
    if (best < 0 || Math.abs(i - label.length / 2) < Math.abs(best - label.length / 2)) best = i;
  }
  return best < 0 ? [label] : [label.slice(0, best), label.slice(best + 1)];
}

/** Conservation: the relevance sum at each layer's output as bars, output relevance as a reference line. */
export function drawConservation(c: HTMLCanvasElement, rows: { layer: string; sum: number; change?: number }[], reference: number): void {
  const rowH = 20;
  const labelW = 200;
  const w = Math.max(360, (c.parentElement?.clientWidth ?? 480) - 8);
  const h = rows.length * rowH + 36;
  const ctx = sizeCanvas(c, w, h);
  const fg = themeColor('--vscode-foreground', '#333');
  const font = themeColor('--vscode-font-family', 'sans-serif');
  const max = Math.max(Math.abs(reference), ...rows.map((r) => Math.abs(r.sum))) * 1.1 || 1;
  const plotW = w - labelW - 70;
  // Zero on the left when every sum is positive (the usual case); in the middle when some are negative.
  const allPositive = reference >= 0 && rows.every((r) => r.sum >= 0);
  const x0 = allPositive ? labelW : labelW + plotW / 2;
  const scale = (allPositive ? plotW : plotW / 2) / max;
  ctx.font = `11px ${font}`;
  ctx.textBaseline = 'middle';
  rows.forEach((r, i) => {
    const y = 8 + i * rowH;
    ctx.fillStyle = fg;
    ctx.textAlign = 'right';
    ctx.fillText(r.layer.length > 30 ? r.layer.slice(0, 29) + '…' : r.layer, labelW - 6, y + rowH / 2);
    const leak = Math.abs(r.change ?? 0) / (Math.abs(reference) || 1);
    // Layers that lose or gain more than 0.5 % stand out in the theme's warning colour.
    ctx.fillStyle = leak > 0.005 ? themeColor('--vscode-editorWarning-foreground', '#bf8803') : themeColor('--vscode-charts-blue', '#3794ff');
    const bw = r.sum * scale;
    ctx.fillRect(Math.min(x0, x0 + bw), y + 3, Math.abs(bw), rowH - 6);
    ctx.fillStyle = fg;
    ctx.textAlign = 'left';
    ctx.fillText(formatValue(r.sum), x0 + Math.max(0, bw) + 4, y + rowH / 2);
  });
  const yEnd = 8 + rows.length * rowH;
  ctx.strokeStyle = fg;
  ctx.beginPath();
  ctx.moveTo(x0, 4);
  ctx.lineTo(x0, yEnd);
  ctx.stroke();
  ctx.setLineDash([4, 3]);
  ctx.beginPath();
  ctx.moveTo(x0 + reference * scale, 4);
  ctx.lineTo(x0 + reference * scale, yEnd);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = fg;
  ctx.textAlign = 'center';
  ctx.fillText(`dashed: relevance put in at the output (${formatValue(reference)})`, labelW + plotW / 2, yEnd + 14);
}

/**
 * Relevance per time step as signed bars (positive in the diverging map's red end, negative in its blue
 * end), one per column of the map above: `plot` is that map's plot area in this canvas's x coordinates,
 * so bar t stands under column t.
 */
export function drawStepBars(c: HTMLCanvasElement, values: ArrayLike<number>, plot: { x: number; w: number }, label: string): void {
  const n = values.length;
  const ctx = sizeCanvas(c, Math.max(120, c.parentElement?.clientWidth ?? 480), 150);
  let hi = 0;
  let lo = 0;
  for (let t = 0; t < n; t++) if (Number.isFinite(values[t])) { hi = Math.max(hi, values[t]); lo = Math.min(lo, values[t]); }
  if (hi === lo) hi = 1; // all zero: an empty chart with its zero line
  const frame = { ...plot, top: 8, h: 102, cw: plot.w / Math.max(1, n), y: (v: number) => 8 + ((hi - v) / (hi - lo)) * 102 };
  const gap = frame.cw >= 6 ? 1 : 0; // thin bars touch; wide ones keep a gap so each step reads on its own
  for (let t = 0; t < n; t++) {
    const v = values[t];
    if (!Number.isFinite(v) || v === 0) continue;
    ctx.fillStyle = `rgb(${colorOf(DIVERGING, v > 0 ? LUT_MAX : 0).join(', ')})`;
    // Whole pixels vertically, so a bar's height in pixels reads its value.
    const [y0, y1] = [Math.round(frame.y(0)), Math.round(frame.y(v))];
    ctx.fillRect(plot.x + t * frame.cw + gap, Math.min(y0, y1), Math.max(0.5, frame.cw - 2 * gap), Math.abs(y1 - y0));
  }
  drawStepAxes(ctx, frame, n, hi > 0 && lo < 0 ? [hi, 0, lo] : [hi, lo], label);
}

/** The step chart's zero line, value axis with its ticks, and step numbers as on the map's axis above. */
function drawStepAxes(
  ctx: CanvasRenderingContext2D, f: { x: number; w: number; top: number; h: number; cw: number; y: (v: number) => number },
  n: number, ticks: number[], label: string,
): void {
  const fg = themeColor('--vscode-foreground', '#333');
  ctx.font = `11px ${themeColor('--vscode-font-family', 'sans-serif')}`;
  ctx.strokeStyle = fg;
  ctx.fillStyle = fg;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(f.x, Math.round(f.y(0)) + 0.5);
  ctx.lineTo(f.x + f.w, Math.round(f.y(0)) + 0.5);
  ctx.moveTo(f.x - 0.5, f.top);
  ctx.lineTo(f.x - 0.5, f.top + f.h);
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const v of ticks) {
    ctx.moveTo(f.x - 4, f.y(v));
    ctx.lineTo(f.x, f.y(v));
    ctx.fillText(formatValue(v), f.x - 6, f.y(v));
  }
  // The same step numbers as under the map above (layout.ts: thinned so that labels never overlap).
  const steps = axisTicks({ width: n, height: 1 }, { w: f.w, h: f.h }, (s) => ctx.measureText(s).width).x;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const t of steps) {
    const x = f.x + t.at;
    ctx.moveTo(x, f.top + f.h);
    ctx.lineTo(x, f.top + f.h + 4);
    ctx.fillText(t.label, x, f.top + f.h + 6);
  }
  ctx.stroke();
  ctx.fillText(label, f.x + f.w / 2, f.top + f.h + 22);
}
