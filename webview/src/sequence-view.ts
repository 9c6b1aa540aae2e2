/**
 * The Sample tab's sequence view (recurrent and 1-D convolutional models): the maps stacked, each as wide
 * as the panel with time left to right, and under the relevance map the relevance per time step.
 */
import { formatValue } from '../../server/src/core/render/colormap.js';
import { drawStepBars } from './charts.js';
import type { MapCanvas } from './heatmap.js';
import { $ } from './dom.js';
import { stepRelevance, summarizeSteps } from './sequence.js';
import type { Shown } from './decode.js';

/** Longest list of per-step values in the chart's text alternative. */
const MAX_LISTED = 400;

/** The stacked, full-width layout for a sequence, the side-by-side one otherwise (before the maps are drawn: it sets their widths). */
export function sequenceLayout(s: Shown): void {
  $('sampleMaps').classList.toggle('sequence', !!s.seq);
  $('figSteps').hidden = !s.seq;
}

/** For a sequence, sample k's per-step chart under `map` (its relevance map), with its caption and text alternative. */
export function renderSequence(s: Shown, k: number, map: MapCanvas): void {
  if (!s.seq) return;
  const { steps, features } = s.seq;
  const values = stepRelevance(s.rel.maps[k], steps, features);
  drawSteps(values, map);
  const sum = summarizeSteps(values);
  $('capSteps').textContent = `Relevance per time step · sum over ${features} feature${features === 1 ? '' : 's'} · ${steps} steps`;
  $('stepSummary').textContent = `Σ R over the steps ${formatValue(sum.total)}; largest |Σ R| at step ${sum.peak} (${formatValue(sum.peakValue)}); `
    + `the last ${Math.max(1, Math.ceil(steps / 4))} step${steps > 4 ? 's' : ''} hold ${(sum.lastQuarterShare * 100).toFixed(0)} % of the per-step |Σ R|.`;
  const listed = Array.from(values.subarray(0, MAX_LISTED), (v, t) => `step ${t} ${formatValue(v)}`).join(', ');
  $('stepChart').setAttribute('aria-label', `Relevance per time step (sum over features): ${listed}${steps > MAX_LISTED ? `, … (${steps - MAX_LISTED} more)` : ''}`);
}

/** The bars under the map's columns: the map's plot area in the chart canvas's coordinates. */
function drawSteps(values: Float64Array, map: MapCanvas): void {
  const chart = $<HTMLCanvasElement & HTMLElement>('stepChart');
  const p = map.plotRect();
  const dx = map.canvas.getBoundingClientRect().left - chart.getBoundingClientRect().left;
  drawStepBars(chart, values, { x: p.x + dx, w: p.w }, 'time step');
}
