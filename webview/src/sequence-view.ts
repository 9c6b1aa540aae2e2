/**
 * The Sample tab's sequence view (recurrent and 1-D convolutional models): the maps stacked, each as wide
 * as the panel with time left to right, under the relevance map the relevance per time step, for a field
 * fed line by line the same relevance on the globe, and the recurrent checks' overlays (LRP212 feeding
 * axis, LRP213 faded steps with the fitted memory curve, LRP215 zero end step, LRP216 reversed-order map),
 * drawn on the step chart and on the time x feature map itself (a transparent canvas over the relevance
 * map, so the map's own redraws on hover leave the marks alone). The overlay controls and the extra
 * figures are created here, on first use, so panel.html stays generic; the toggles live in the panel's
 * kept state.
 */
import { formatValue } from '../../server/src/core/render/colormap.js';
import { drawStepBars } from './charts.js';
import { MapCanvas } from './heatmap.js';
import { $, type CheckEl } from './dom.js';
import {
  barScale, curveInBarUnits, sequenceMapMarks, sequenceOverlays, sequenceToggles, stepRelevance, summarizeSteps,
  type SequenceOverlays, type SequenceToggles,
} from './sequence.js';
import { drawFor, limitsFor } from './map-draw.js';
import { FONT_PX } from './layout.js';
import { panel, save } from './state.js';
import type { Shown } from './decode.js';

/** Longest list of per-step values in the chart's text alternative. */
const MAX_LISTED = 400;

/** Which overlays are on: the panel's kept state, so a reload or another sample keeps them. */
const toggles = (): SequenceToggles => sequenceToggles(panel.state.sequenceOverlays);

/** One colour per check, the same on the chart and on the map. */
const FEEDING = '#7b3fbf';
const ZERO = '#c00000';

const TOGGLES: [id: string, key: keyof SequenceToggles, label: string][] = [
  ['ovSeqFeeding', 'feeding', 'Feeding axis (LRP212)'],
  ['ovSeqFading', 'fading', 'Faded steps and fitted memory (LRP213)'],
  ['ovSeqZero', 'zero', 'Zero first/last step (LRP215)'],
  ['ovSeqReversed', 'reversed', 'Reversed-order map (LRP216)'],
];

let last: { s: Shown; k: number; map: MapCanvas } | undefined;
let globe: MapCanvas | undefined;
let reversedMaps: [MapCanvas, MapCanvas] | undefined;
/** The marks over the relevance map (created on first use, beside the map's box: the box holds the map's canvas only). */
let marks: HTMLCanvasElement | undefined;

/** The stacked, full-width layout for a sequence, the side-by-side one otherwise (before the maps are drawn: it sets their widths). */
export function sequenceLayout(s: Shown): void {
  $('sampleMaps').classList.toggle('sequence', !!s.seq);
  $('figSteps').hidden = !s.seq;
  const rows = document.getElementById('seqOverlays');
  if (rows) rows.hidden = !s.seq;
  const g = document.getElementById('figGlobe');
  if (g) g.hidden = !s.globe;
  const r = document.getElementById('figReversed');
  if (r && !s.seq) r.hidden = true;
  if (marks && !s.seq) marks.hidden = true;
}

/** For a sequence, sample k's per-step chart under `map` (its relevance map), the globe and the overlays. */
export function renderSequence(s: Shown, k: number, map: MapCanvas): void {
  if (!s.seq) return;
  last = { s, k, map };
  ensureControls();
  const { steps, features } = s.seq;
  const values = stepRelevance(s.rel.maps[k], steps, features);
  const ov = sequenceOverlays(panel.findings, s.seq);
  drawSteps(values, map, ov);
  drawMapMarks(map, ov, steps);
  const sum = summarizeSteps(values);
  const info = s.result.sequence;
  const fed = info?.timeDim ? ` · time = the field's '${info.timeDim}'${info.reverse ? ' (reversed)' : ''}` : '';
  $('capSteps').textContent = `Relevance per time step · sum over ${features} feature${features === 1 ? '' : 's'} · ${steps} steps${fed}`;
  $('stepSummary').textContent = `Σ R over the steps ${formatValue(sum.total)}; largest |Σ R| at step ${sum.peak} (${formatValue(sum.peakValue)}); `
    + `the last ${Math.max(1, Math.ceil(steps / 4))} step${steps > 4 ? 's' : ''} hold ${(sum.lastQuarterShare * 100).toFixed(0)} % of the per-step |Σ R|.`
    + overlayText(ov);
  const listed = Array.from(values.subarray(0, MAX_LISTED), (v, t) => `step ${t} ${formatValue(v)}`).join(', ');
  $('stepChart').setAttribute('aria-label', `Relevance per time step (sum over features): ${listed}${steps > MAX_LISTED ? `, … (${steps - MAX_LISTED} more)` : ''}`);
  renderGlobe(s, k);
  renderReversed(s, ov);
  const on = toggles();
  for (const [id, key] of TOGGLES) {
    const el = document.getElementById(id) as CheckEl | null;
    if (!el) continue;
    if (el.checked !== on[key]) el.checked = on[key]; // a kept state from before the controls existed
    const has = key === 'feeding' ? !!ov.stripes : key === 'fading' ? !!ov.fading : key === 'zero' ? ov.zeroSteps.length > 0 : !!ov.reversed;
    el.disabled = !has;
  }
}

/** What the shown overlays say, after the step summary. */
function overlayText(ov: SequenceOverlays): string {
  const o = toggles();
  const parts: string[] = [];
  if (o.feeding && ov.stripes) parts.push(`Stripes along the feeding axis${ov.stripes.timeDim ? ` ('${ov.stripes.timeDim}')` : ''} (LRP212): the arrow over the map is the feeding direction, the dotted line the mean |R| share per step.`);
  if (o.fading && ov.fading) parts.push(`${ov.fading.faded.length} faded step${ov.fading.faded.length === 1 ? '' : 's'} shaded (LRP213) on the map and the chart${Number.isFinite(ov.fading.halfLife) ? `; the curve is the fitted decay, half-life ${formatValue(ov.fading.halfLife)} steps` : ''}.`);
  if (o.zero && ov.zeroSteps.length) parts.push(`${ov.zeroSteps.length > 1 ? 'Steps' : 'Step'} ${ov.zeroSteps.map((z) => z.step).join(' and ')} ${ov.zeroSteps.length > 1 ? 'get' : 'gets'} exactly zero relevance (LRP215), outlined on the map and the chart.`);
  return parts.length ? ' ' + parts.join(' ') : '';
}

/** The bars under the map's columns (the map's plot area in the chart canvas's coordinates), then the overlays over them. */
function drawSteps(values: Float64Array, map: MapCanvas, ov: SequenceOverlays): void {
  const chart = $<HTMLCanvasElement & HTMLElement>('stepChart');
  const p = map.plotRect();
  const dx = map.canvas.getBoundingClientRect().left - chart.getBoundingClientRect().left;
  const x0 = p.x + dx;
  drawStepBars(chart, values, { x: x0, w: p.w }, 'time step');
  const ctx = chart.getContext('2d');
  if (!ctx) return;
  const n = values.length;
  const cw = p.w / Math.max(1, n);
  const y = barScale(values);
  const o = toggles();
  ctx.save();
  if (o.fading && ov.fading) {
    ctx.fillStyle = 'rgba(128, 128, 128, 0.28)';
    for (const t of ov.fading.faded) ctx.fillRect(x0 + t * cw, 8, cw, 102);
    if (ov.fading.curve.some((v) => v > 0)) polyline(ctx, curveInBarUnits(ov.fading.curve, values), x0, cw, y, '#d98c00', []);
  }
  if (o.feeding && ov.stripes) {
    polyline(ctx, curveInBarUnits(ov.stripes.profile, values), x0, cw, y, FEEDING, [2, 3]);
    // The feeding direction along the time axis: an arrow over the plot, named by the field's dim.
    ctx.strokeStyle = ctx.fillStyle = FEEDING;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(x0, 4);
    ctx.lineTo(x0 + p.w - 6, 4);
    ctx.stroke();
    ctx.beginPath();
    ctx.moveTo(x0 + p.w, 4);
    ctx.lineTo(x0 + p.w - 7, 1);
    ctx.lineTo(x0 + p.w - 7, 7);
    ctx.fill();
  }
  if (o.zero) {
    ctx.strokeStyle = ZERO;
    ctx.lineWidth = 2;
    ctx.setLineDash([3, 2]);
    for (const z of ov.zeroSteps) ctx.strokeRect(x0 + z.step * cw + 1, 9, Math.max(2, cw - 2), 100);
  }
  ctx.restore();
}

/**
 * The overlays on the time x feature map: faded steps shaded over every feature, the zero step outlined,
 * the feeding direction as an arrow along the plot's top edge. A canvas of the map's size laid over it
 * (no pointer events, hidden from screen readers: the step summary says the same in words).
 */
function drawMapMarks(map: MapCanvas, ov: SequenceOverlays, steps: number): void {
  const box = map.canvas.parentElement;
  const fig = box?.parentElement;
  if (!box || !fig) return;
  if (!marks || marks.parentElement !== fig) {
    marks?.remove();
    marks = document.createElement('canvas');
    marks.id = 'seqMapMarks';
    marks.setAttribute('aria-hidden', 'true');
    marks.style.position = 'absolute';
    marks.style.pointerEvents = 'none';
    // The figure is the marks' and the map canvas's offset parent, so the map's offsets place the marks.
    fig.style.position = 'relative';
    fig.appendChild(marks);
    // Registered after the map's own observer, so it runs after the map re-laid itself out.
    new ResizeObserver(() => { if (last && last.map.canvas.parentElement === box) drawMapMarks(last.map, sequenceOverlays(panel.findings, last.s.seq!), last.s.seq!.steps); }).observe(box);
  }
  const c = marks;
  c.hidden = false;
  if (c.width !== map.canvas.width || c.height !== map.canvas.height) {
    c.width = map.canvas.width;
    c.height = map.canvas.height;
  }
  c.style.width = map.canvas.style.width;
  c.style.height = map.canvas.style.height;
  c.style.left = `${map.canvas.offsetLeft}px`;
  c.style.top = `${map.canvas.offsetTop}px`;
  const ctx = c.getContext('2d');
  if (!ctx) return;
  const dpr = window.devicePixelRatio || 1;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, c.width, c.height);
  const p = map.plotRect();
  if (!(p.w > 0 && p.h > 0)) return;
  const m = sequenceMapMarks(ov, toggles(), steps, p.w);
  ctx.save();
  ctx.fillStyle = 'rgba(110, 110, 110, 0.38)';
  for (const s of m.shaded) ctx.fillRect(p.x + s.x, p.y, s.w, p.h);
  ctx.strokeStyle = ZERO;
  ctx.lineWidth = 2;
  ctx.setLineDash([4, 2]);
  for (const s of m.outlined) ctx.strokeRect(p.x + s.x + 1, p.y + 1, Math.max(2, s.w - 2), p.h - 2);
  ctx.setLineDash([]);
  if (m.arrow) {
    // White under the colour, so the arrow reads on both ends of the colormap.
    const y = p.y + 7, x1 = p.x + p.w - 4;
    for (const [colour, width] of [['#fff', 4.5], [FEEDING, 2]] as const) {
      ctx.strokeStyle = ctx.fillStyle = colour;
      ctx.lineWidth = width;
      ctx.beginPath();
      ctx.moveTo(p.x + 4, y);
      ctx.lineTo(x1 - 8, y);
      ctx.stroke();
      ctx.beginPath();
      ctx.moveTo(x1, y);
      ctx.lineTo(x1 - 10, y - 5);
      ctx.lineTo(x1 - 10, y + 5);
      ctx.closePath();
      if (colour === '#fff') ctx.stroke();
      ctx.fill();
    }
    ctx.font = `bold ${FONT_PX}px sans-serif`;
    ctx.textBaseline = 'top';
    ctx.lineJoin = 'round';
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 3;
    ctx.strokeText(`${m.arrow.label} →`, p.x + 6, y + 5);
    ctx.fillStyle = FEEDING;
    ctx.fillText(`${m.arrow.label} →`, p.x + 6, y + 5);
  }
  ctx.restore();
}

function polyline(ctx: CanvasRenderingContext2D, v: ArrayLike<number>, x0: number, cw: number, y: (v: number) => number, color: string, dash: number[]): void {
  ctx.strokeStyle = color;
  ctx.lineWidth = 2;
  ctx.setLineDash(dash);
  ctx.beginPath();
  for (let t = 0; t < v.length; t++) {
    const px = x0 + (t + 0.5) * cw;
    if (t === 0) ctx.moveTo(px, y(v[t]));
    else ctx.lineTo(px, y(v[t]));
  }
  ctx.stroke();
  ctx.setLineDash([]);
}

/** A figure after `after` in the maps box, with a caption and a map box, created once. */
function figure(id: string, after: string, caption: string): HTMLElement {
  let f = document.getElementById(id);
  if (f) return f;
  f = document.createElement('figure');
  f.id = id;
  f.innerHTML = `<figcaption id="${id}Cap">${caption}</figcaption><div class="mapbox" id="${id}Box"></div><p class="summary" id="${id}Text"></p>`;
  $(after).after(f);
  return f;
}

/** The overlay checkboxes, in the Artifact overlays box, created once. */
function ensureControls(): void {
  if (document.getElementById('seqOverlays')) return;
  const box = document.createElement('div');
  box.id = 'seqOverlays';
  for (const [id, key, label] of TOGGLES) {
    const row = document.createElement('div');
    row.className = 'overlay-row';
    const cb = document.createElement('vscode-checkbox') as HTMLElement & CheckEl;
    cb.id = id;
    cb.textContent = label;
    const on = toggles()[key];
    cb.checked = on;
    if (on) cb.setAttribute('checked', '');
    cb.addEventListener('change', () => {
      panel.state.sequenceOverlays = { ...toggles(), [key]: cb.checked };
      save();
      if (last) renderSequence(last.s, last.k, last.map);
    });
    row.appendChild(cb);
    box.appendChild(row);
  }
  $('artifactSummary').before(box);
}

/** A field fed line by line: the sample's relevance put back on the globe (the server's inverse of the feeding). */
function renderGlobe(s: Shown, k: number): void {
  const g = s.globe;
  const f = document.getElementById('figGlobe');
  if (!g) {
    if (f) f.hidden = true;
    return;
  }
  const fig = figure('figGlobe', 'figSteps', 'Relevance on the globe');
  fig.hidden = false;
  globe ??= new MapCanvas($('figGlobeBox'), 'Relevance on the globe');
  const rel = g.rel.maps[Math.min(k, g.rel.n - 1)];
  const lim = limitsFor([rel], g.mask);
  globe.set(drawFor(g, { mode: 'relevance', input: g.inp?.maps[k], relevance: rel, relLimits: lim }));
  const info = s.result.sequence!;
  $('figGlobeCap').textContent = `Relevance on the globe · the ${info.steps} steps along '${info.timeDim ?? 'time'}'${info.reverse ? ' (fed in reverse)' : ''} put back on the ${g.rel.height} × ${g.rel.width} grid · colours as in the relevance map`;
  globe.canvas.setAttribute('aria-label', `Relevance of sample ${s.result.samples[k] ?? k} on the lat/lon grid: the same values as the time × feature map, each step back on its ${info.timeDim ?? 'time'} line`);
}

/** LRP216 on demand: the mean |R| share per cell in the feeding order and with the time axis reversed (put back in order). */
function renderReversed(s: Shown, ov: SequenceOverlays): void {
  const on = toggles().reversed && !!ov.reversed;
  const f = document.getElementById('figReversed');
  if (!on) {
    if (f) f.hidden = true;
    return;
  }
  const r = ov.reversed!;
  const fig = figure('figReversed', s.globe ? 'figGlobe' : 'figSteps', 'Order dependence (LRP216)');
  fig.hidden = false;
  if (!reversedMaps) {
    const box = $('figReversedBox');
    reversedMaps = [new MapCanvas(box, 'Mean |R| share, feeding order'), new MapCanvas(box, 'Mean |R| share, time axis reversed')];
  }
  const lim = limitsFor([r.own, r.reversed], s.mask);
  reversedMaps[0].set(drawFor(s, { mode: 'relevance', relevance: r.own, relLimits: lim }));
  reversedMaps[1].set(drawFor(s, { mode: 'relevance', relevance: r.reversed, relLimits: lim }));
  const acc = r.accuracy !== undefined && r.reversedAccuracy !== undefined ? ` Accuracy ${(r.accuracy * 100).toFixed(1)} % in order, ${(r.reversedAccuracy * 100).toFixed(1)} % reversed.` : '';
  const agree = r.agreement !== undefined ? ` ${(r.agreement * 100).toFixed(1)} % of the decisions stay the same.` : '';
  $('figReversedCap').textContent = 'Mean |R| share over the checked samples, one colour scale: top, in the feeding order; bottom, with the time axis reversed (put back in order)';
  $('figReversedText').textContent = `${agree}${acc} ${r.message}`.trim();
}
