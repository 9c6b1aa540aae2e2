/** The colour bar (with units) and the conservation chart, drawn on canvases with theme colours. */
import { colorbarRaster, DIVERGING, SEQUENTIAL } from '../../server/src/core/render/raster.js';
import { colorbarTicks, formatValue, valueToBarY, type Limits } from '../../server/src/core/render/colormap.js';
import { gridCanvas } from './heatmap.js';

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
  ctx.fillText(label, 0, 0);
  ctx.restore();
  c.setAttribute('aria-label', `Colour bar: ${label}, from ${formatValue(lim.vmin)} (blue) through 0 (white) to ${formatValue(lim.vmax)} (red)`);
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
