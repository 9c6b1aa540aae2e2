/**
 * The report's sequence figure and its facts table, for a recurrent model fed a field line by line
 * (sequence.ts): on top the mean |R| share as the model reads it, a (time x feature) heat map in feeding
 * order; below it, on the same step axis, the share per step (bars) with the fitted exponential decay
 * from the last step (the fading-memory figure). The Nino-3.4 steps are outlined in both.
 */
import sharp, { type OverlayOptions } from 'sharp';
import { percentile } from '../render/colormap.js';
import { cellRaster, upscale } from '../render/raster.js';
import { colorbarLayer } from '../render/colorbar-layer.js';
import { formatLat, formatLon } from '../render/geo.js';
import { escapeXml as escX } from '../render/escape.js';
import type { ModelAnalysis } from './analyze.js';
import type { FigureFile } from './figures.js';
import { sequenceAxis, sequenceView, type SequenceView } from './sequence.js';

const LEFT = 62;
const TOP = 30;
const GAP = 58;
const CHART_H = 170;
const BOTTOM = 44;
const BAR_W = 16;
const BAR_TEXT = 92;
const FONT = 'font-family="DejaVu Sans, sans-serif"';

const coordLabel = (axis: 'lat' | 'lon', x: number): string => (axis === 'lon' ? formatLon(x) : formatLat(x));

export async function renderSequenceFigure(v: SequenceView, title: string): Promise<Buffer> {
  const T = v.steps;
  const F = v.features;
  const sx = Math.max(2, Math.floor(720 / T));
  const sy = Math.max(2, Math.floor(200 / F));
  const W = T * sx;
  const H = F * sy;
  const featureAxis = v.time === 'lon' ? 'lat' : 'lon';
  // Rows are features; latitudes stored south to north are drawn north up.
  const flip = featureAxis === 'lat' && v.featureCoords.length > 1 && v.featureCoords[0] < v.featureCoords[F - 1];
  // Raster rows = features, columns = steps.
  const cells = new Float32Array(F * T);
  for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) cells[f * T + t] = v.map[t * F + f];
  const hi = percentile(cells, 99.5);
  const limits = { vmin: 0, vmax: hi > 0 ? hi : 1 };
  const px = upscale(cellRaster({ width: T, height: F, mode: 'input', input: cells, inLimits: limits, flipRows: flip }), T, F, sx, sy, undefined, flip);
  const width = LEFT + W + 22 + BAR_W + BAR_TEXT;
  const chartTop = TOP + H + GAP;
  const height = chartTop + CHART_H + BOTTOM;
  const svg: string[] = [];
  const composites: OverlayOptions[] = [{ input: Buffer.from(px.buffer, px.byteOffset, px.byteLength), raw: { width: W, height: H, channels: 4 }, left: LEFT, top: TOP }];
  svg.push(`<text x="${LEFT}" y="${TOP - 10}" ${FONT} font-size="13" fill="#222">${escX(title)}</text>`);
  svg.push(`<rect x="${LEFT - 0.5}" y="${TOP - 0.5}" width="${W + 1}" height="${H + 1}" fill="none" stroke="#555"/>`);
  const rowY = (f: number): number => TOP + (flip ? F - 1 - f : f) * sy;
  // Feature ticks (about 6), step ticks (about 8) with the step index and its coordinate.
  const fStep = Math.max(1, Math.round(F / 6));
  for (let f = 0; f < F; f += fStep) {
    const y = rowY(f) + sy / 2;
    svg.push(`<line x1="${LEFT - 4}" x2="${LEFT}" y1="${y}" y2="${y}" stroke="#333"/><text x="${LEFT - 6}" y="${y + 4}" text-anchor="end" ${FONT} font-size="10" fill="#333">${escX(coordLabel(featureAxis, v.featureCoords[f]))}</text>`);
  }
  const tStep = Math.max(1, Math.round(T / 8));
  const stepTicks = (top: number): string[] => {
    const out: string[] = [];
    for (let t = 0; t < T; t += tStep) {
      const x = LEFT + (t + 0.5) * sx;
      out.push(`<line x1="${x}" x2="${x}" y1="${top}" y2="${top + 4}" stroke="#333"/><text x="${x}" y="${top + 15}" text-anchor="middle" ${FONT} font-size="10" fill="#333">${t}</text><text x="${x}" y="${top + 27}" text-anchor="middle" ${FONT} font-size="9" fill="#666">${escX(coordLabel(v.time, v.stepCoords[t]))}</text>`);
    }
    return out;
  };
  svg.push(...stepTicks(TOP + H));
  if (v.ninoSteps && v.ninoFeatures) {
    const x0 = LEFT + v.ninoSteps[0] * sx;
    const x1 = LEFT + (v.ninoSteps[1] + 1) * sx;
    const ys = [rowY(v.ninoFeatures[0]), rowY(v.ninoFeatures[1])];
    const y0 = Math.min(...ys);
    const y1 = Math.max(...ys) + sy;
    const r = `x="${x0}" y="${y0}" width="${x1 - x0}" height="${y1 - y0}" fill="none"`;
    svg.push(`<rect ${r} stroke="#000" stroke-width="3.5"/><rect ${r} stroke="#fff" stroke-width="1.5"/><text x="${x0 + 2}" y="${y0 - 4}" ${FONT} font-size="11" font-weight="bold" fill="#000" stroke="#fff" stroke-width="2.5" paint-order="stroke">Nino-3.4</text>`);
  }
  const bar = colorbarLayer({ kind: 'sequential', limits, label: '|R| share per cell (clip p99.5)', left: LEFT + W + 22, top: TOP, width: BAR_W, height: H, textWidth: BAR_TEXT, labelInset: 10, fontSize: 10 });
  composites.push(bar.composite);
  svg.push(...bar.svg);

  // The per-step chart: bars, the fitted decay, the Nino-3.4 steps shaded.
  const fit = v.fading;
  const curve = (t: number): number => Math.exp(fit.intercept - fit.rate * (T - 1 - t));
  let yMax = Math.max(...v.perStep);
  if (Number.isFinite(fit.intercept)) for (let t = 0; t < T; t++) yMax = Math.max(yMax, Math.min(curve(t), 2 * yMax));
  yMax = yMax > 0 ? yMax * 1.08 : 1;
  const yOf = (p: number): number => chartTop + CHART_H - (Math.min(p, yMax) / yMax) * CHART_H;
  if (v.ninoSteps) svg.push(`<rect x="${LEFT + v.ninoSteps[0] * sx}" y="${chartTop}" width="${(v.ninoSteps[1] - v.ninoSteps[0] + 1) * sx}" height="${CHART_H}" fill="#ffb000" fill-opacity="0.18"/><text x="${LEFT + v.ninoSteps[0] * sx + 2}" y="${chartTop + 12}" ${FONT} font-size="10" fill="#7a5200">Nino-3.4 steps</text>`);
  for (let t = 0; t < T; t++) {
    const y = yOf(v.perStep[t]);
    svg.push(`<rect x="${LEFT + t * sx + 0.5}" y="${y.toFixed(1)}" width="${Math.max(1, sx - 1)}" height="${(chartTop + CHART_H - y).toFixed(1)}" fill="#3b6ea5"/>`);
  }
  if (Number.isFinite(fit.intercept)) {
    const d = Array.from({ length: T }, (_, t) => `${t ? 'L' : 'M'}${(LEFT + (t + 0.5) * sx).toFixed(1)},${yOf(curve(t)).toFixed(1)}`).join('');
    svg.push(`<path d="${d}" fill="none" stroke="#c0392b" stroke-width="2"/>`);
  }
  const hl = Number.isFinite(fit.halfLife) ? `half-life ${fit.halfLife.toFixed(1)} steps` : fit.rate < 0 ? `none: it grows towards the first step (doubling every ${(Math.LN2 / -fit.rate).toFixed(1)} steps back)` : fit.rate === 0 ? 'no decay from the last step' : 'no fit';
  svg.push(`<text x="${LEFT}" y="${chartTop - 8}" ${FONT} font-size="11" fill="#c0392b">fitted exp. decay from the last step: ${escX(hl)} (R² ${Number.isFinite(fit.r2) ? fit.r2.toFixed(2) : '–'})</text>`);
  svg.push(`<rect x="${LEFT - 0.5}" y="${chartTop - 0.5}" width="${W + 1}" height="${CHART_H + 1}" fill="none" stroke="#555"/>`);
  for (const p of [0, yMax / 2 / 1.08, yMax / 1.08]) {
    const y = yOf(p);
    svg.push(`<line x1="${LEFT - 4}" x2="${LEFT}" y1="${y}" y2="${y}" stroke="#333"/><text x="${LEFT - 6}" y="${y + 4}" text-anchor="end" ${FONT} font-size="10" fill="#333">${(100 * p).toFixed(1)}%</text>`);
  }
  svg.push(...stepTicks(chartTop + CHART_H));
  svg.push(`<text transform="translate(14,${chartTop + CHART_H / 2}) rotate(-90)" text-anchor="middle" ${FONT} font-size="10" fill="#333">share of |R| per step</text>`);
  svg.push(`<text x="${LEFT + W / 2}" y="${height - 4}" text-anchor="middle" ${FONT} font-size="10" fill="#333">step (fed first to last${v.reverse ? ', the axis reversed' : ''}; ${v.time === 'lon' ? 'longitude' : 'latitude'} below)</text>`);
  composites.push({ input: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${svg.join('')}</svg>`), left: 0, top: 0 });
  return sharp({ create: { width, height, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 1 } } })
    .composite(composites)
    .png({ compressionLevel: 9 })
    .toBuffer();
}

/** The facts of the sequence view, as table rows for the model's section. */
export function sequenceFactsHtml(v: SequenceView): string {
  const f = v.fading;
  const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : '–');
  const axis = v.time === 'lon' ? 'longitude' : 'latitude';
  const other = v.time === 'lon' ? 'latitudes' : 'longitudes';
  const dist = v.ninoSteps ? v.steps - 1 - v.ninoSteps[1] : undefined;
  const rows = [
    `<tr><th>fed as</th><td>${v.steps} steps along ${axis}${v.reverse ? ' (reversed)' : ''}, ${v.features} ${other} per step</td></tr>`,
    `<tr><th>fading memory</th><td>${Number.isFinite(f.halfLife) ? `half-life ${f.halfLife.toFixed(1)} steps` : f.rate < 0 ? `none: the share per step grows towards the first step (doubling every ${(Math.LN2 / -f.rate).toFixed(1)} steps back)` : f.rate === 0 ? 'none: the share per step does not decay from the last step' : 'not fitted'} (exponential fit of the share per step against the distance from the last step, R² ${Number.isFinite(f.r2) ? f.r2.toFixed(2) : '–'}; ${pct(f.quietShare)} of the steps hold under 1 % of |R| each)</td></tr>`,
    v.ninoSteps ? `<tr><th>Nino-3.4 steps</th><td>${v.ninoSteps[0]}-${v.ninoSteps[1]} of 0-${v.steps - 1}: ${dist} steps before the last${Number.isFinite(f.halfLife) ? `, ${(dist! / f.halfLife).toFixed(1)} half-lives` : ''}; their share of |R|: ${pct(v.perStep.slice(v.ninoSteps[0], v.ninoSteps[1] + 1).reduce((a, b) => a + b, 0))} (an even spread: ${pct((v.ninoSteps[1] - v.ninoSteps[0] + 1) / v.steps)})</td></tr>` : '',
  ];
  return `<table class="facts"><tbody>${rows.join('')}</tbody></table>`;
}

/** The half-life for a summary cell. */
export function formatHalfLife(v: SequenceView | undefined): string {
  if (!v) return '-';
  const h = v.fading.halfLife;
  return Number.isFinite(h) ? `${h.toFixed(1)} steps` : v.fading.rate < 0 ? 'grows backwards' : v.fading.rate === 0 ? 'no decay' : '-';
}

/** The sequence view of an analysed model, when it is a recurrent model fed its grid in sequence mode. */
export function sequenceOf(a: ModelAnalysis): SequenceView | undefined {
  const axis = sequenceAxis(a.graph, a.grid);
  return axis ? sequenceView(a.grid, axis, a.trainedAbs, a.ninoWeights) : undefined;
}

export async function sequenceFigure(a: ModelAnalysis, v: SequenceView): Promise<FigureFile> {
  const n = a.classes.reduce((k, c) => k + c.n, 0);
  return {
    name: `${a.name.replace(/[^A-Za-z0-9_.-]+/g, '_')}-sequence.png`,
    kind: 'sequence',
    caption: `The relevance as the model reads the field: mean share of |R| per cell over the ${n} samples (predicted class, composite ${a.composite}) laid out as (step x feature) in feeding order, ${v.steps} steps along ${v.time === 'lon' ? 'longitude' : 'latitude'}${v.reverse ? ' (reversed)' : ''}; below, the share per step (bars) and an exponential decay from the last step fitted to it (red; fading memory). The outlined cells and shaded steps are Nino-3.4. The class-mean maps above are the same relevance put back on the globe.`,
    png: await renderSequenceFigure(v, `${a.name}: mean |R| share, step x ${v.time === 'lon' ? 'latitude' : 'longitude'}`),
  };
}
