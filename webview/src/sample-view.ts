/** The Sample tab: one sample's input and relevance maps (side by side or overlaid), their summary and artifact figures. */
import { formatValue, inputLimits, type Limits } from '../../server/src/core/render/colormap.js';
import { MapCanvas, describeCell } from './heatmap.js';
import { drawColorbar } from './charts.js';
import { timed } from './timing.js';
import { artifactShare, inputLabel, inputScale, mapSummary, overlayGeometry } from './maps.js';
import { $, type CheckEl } from './dom.js';
import { panel, className, compositeName, sampleIndex } from './state.js';
import { unitsLabel, type Shown } from './decode.js';
import { drawFor, layoutMapRows, limitsFor, link } from './map-draw.js';
import { renderSequence, sequenceLayout } from './sequence-view.js';

export const mapInput = new MapCanvas($('boxInput'), 'Input field');
export const mapRel = new MapCanvas($('boxRel'), 'Relevance heat map');
link(mapInput, mapRel, () => panel.main?.result.inputUnits);
link(mapRel, mapInput, () => panel.main?.result.inputUnits);

export function renderSample(): void {
  const s = panel.main;
  if (!s) return;
  const { state } = panel;
  const k = sampleIndex(s);
  const rel = s.rel.maps[k];
  const inp = s.inp?.maps[k];
  const lim = timed('limits', () => limitsFor([rel], s.mask));
  const overlay = state.view === 'overlay' && !!inp;
  sequenceLayout(s);
  $('figInput').hidden = overlay || !inp;
  $('barInput').hidden = overlay || !inp;
  layoutMapRows();
  const sampleNo = `${s.result.samples[k] ?? k}${s.result.times?.[k] ? ` (${s.result.times[k]})` : ''}`;
  $('capRel').textContent = `${overlay ? 'Relevance over input' : 'Relevance'} · sample ${sampleNo} · ${s.result.targetSpec ? `output ${s.result.targetSpec.text}` : `class ${className(s, s.result.target[k])}`} · ${compositeName(s)}`;
  $('capInput').textContent = `Input · sample ${sampleNo}${s.seq ? ' · features × time steps' : ''}`;
  if (inp && !overlay) timed('inputMap', () => {
    // An anomaly field diverges around 0 (symmetric limits, white at 0); any other input is sequential.
    const sc = inputScale(inp, s.mask, !!s.result.inputDiverging);
    const label = inputLabel(s.result.inputUnits, sc.kind === 'diverging');
    const bar = (h: number) => drawColorbar($('barInput'), sc.limits, label, h, sc.kind);
    mapInput.onLayout = bar;
    mapInput.set(drawFor(s, { mode: 'input', input: inp, relevance: rel, inLimits: sc.limits, inputColormap: sc.kind }));
    bar(mapInput.canvas.clientHeight || 300);
  });
  mapRel.onLayout = (h) => { drawColorbar($('barRel'), lim, unitsLabel(s), h); renderSequence(s, k, mapRel); };
  timed('relevanceMap', () => mapRel.set(drawFor(s, overlay
    ? { mode: 'overlay', input: inp, relevance: rel, relLimits: lim, inLimits: inputLimits(inp!, s.mask), opacity: state.opacity }
    : { mode: 'relevance', input: inp, relevance: rel, relLimits: lim })));
  drawColorbar($('barRel'), lim, unitsLabel(s), mapRel.canvas.clientHeight || 300);
  renderSequence(s, k, mapRel);
  timed('summaries', () => { describeMap(s, rel, lim); renderArtifacts(s, rel); });
}

function describeMap(s: Shown, rel: Float32Array, lim: Limits): void {
  const m = mapSummary(rel, s.rel.width, s.mask ?? maskFromInput(s));
  const where = ([r, c]: [number, number]) => s.geo
    ? `row ${r}, col ${c} (${describeCell({ row: r, col: c, lat: s.geo.lat[r], lon: s.geo.lon[c] }).split(' · ')[1]})`
    : s.seq ? `step ${c}, feature ${r}` : `row ${r}, col ${c}`;
  const size = s.seq ? `${s.seq.features} feature${s.seq.features === 1 ? '' : 's'} by ${s.seq.steps} time steps` : `${s.rel.height} by ${s.rel.width} cells`;
  const pct = panel.state.percentile;
  const text = `${size}. Sum of relevance ${formatValue(m.sum)}; largest ${formatValue(m.max)} at ${where(m.maxAt)}; `
    + `smallest ${formatValue(m.min)} at ${where(m.minAt)}${s.mask ? ' (unmasked cells)' : ''}; ${(m.positiveShare * 100).toFixed(0)} % of |R| is positive. `
    + `Colour limits ${formatValue(lim.vmin)} to ${formatValue(lim.vmax)}${pct < 100 ? ` (clipped at the ${pct}th percentile)` : ''}.`;
  $('summary').textContent = text;
  // The canvas's text alternative: what the picture shows, for screen readers.
  mapRel.canvas.setAttribute('aria-label', `Relevance heat map. ${text}`);
  if (s.inp) mapInput.canvas.setAttribute('aria-label', `Input ${s.seq ? 'sequence' : 'field'}, ${size}`);
}

function findingText(codes: string[]): string {
  const f = panel.findings.filter((x) => codes.includes(x.code));
  return f.map((x) => `${x.code}: ${x.message}`).join(' ');
}

function renderArtifacts(s: Shown, rel: Float32Array): void {
  const g = overlayGeometry(panel.findings);
  const share = artifactShare(rel, s.rel.height, s.rel.width, g.band ?? 0, s.mask ?? maskFromInput(s));
  $<CheckEl>('ovBorder').disabled = !g.band;
  $<CheckEl>('ovStride').disabled = !g.stride;
  $('figBorder').textContent = g.band
    ? `${(share.border * 100).toFixed(1)} % of |R| in the ${g.band}-cell band (${(share.borderCells * 100).toFixed(1)} % of cells). ${findingText(['LRP101', 'LRP202'])}`
    : 'No border finding for this model.';
  $('figStride').textContent = g.stride ? `stride ${g.stride}. ${findingText(['LRP102', 'LRP203'])}` : 'No stride finding for this model.';
  $('figMask').textContent = share.maskedCells > 0
    ? `${(share.masked * 100).toFixed(1)} % of |R| on masked cells (${(share.maskedCells * 100).toFixed(1)} % of cells). ${findingText(['LRP209'])}`
    : 'No masked cells.';
  const parts: string[] = [];
  if (g.band) parts.push(`border band ${(share.border * 100).toFixed(1)} %`);
  if (share.maskedCells > 0) parts.push(`masked cells ${(share.masked * 100).toFixed(1)} %`);
  $('artifactSummary').textContent = parts.length ? `Share of relevance on artifact regions: ${parts.join(', ')}.` : '';
}

/** Cells whose input is NaN (missing data), when the result names no mask. */
function maskFromInput(s: Shown): Uint8Array | undefined {
  const inp = s.inp?.maps[sampleIndex(s)];
  if (!inp) return undefined;
  let m: Uint8Array | undefined;
  for (let i = 0; i < inp.length; i++) if (Number.isNaN(inp[i])) { m ??= new Uint8Array(inp.length); m[i] = 1; }
  return m;
}
