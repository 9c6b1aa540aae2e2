/** The three figures of a model's section: class-mean maps, artifact overlays, the randomization check. */
import { percentile, sharedLimits, type Limits } from '../render/colormap.js';
import type { ModelAnalysis } from './analyze.js';
import { renderMapFigure, type Overlays } from './figure.js';
import { geoFrame } from '../render/geo.js';

export interface FigureFile {
  /** File name inside the report folder. */
  name: string;
  kind: 'classes' | 'artifacts' | 'sanity' | 'sequence' | 'remedy';
  png: Buffer;
  /** What the figure shows (the caption). */
  caption: string;
}

/** Colour limits clipped at the 99.5th percentile so one extreme cell does not wash out the map (said in the label). */
const CLIP = 99.5;

function seqLimits(maps: ArrayLike<number>[]): Limits {
  const all: number[] = [];
  for (const m of maps) for (let i = 0; i < m.length; i++) all.push(m[i]);
  const hi = percentile(all, CLIP);
  return { vmin: 0, vmax: hi > 0 ? hi : 1 };
}

function fmtStat(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(3))) : 'n/a';
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]+/g, '_');
}

export function artifactOverlays(a: ModelAnalysis): Overlays {
  const codes = new Set([...a.staticFindings, ...a.mapFindings].map((f) => f.code));
  const o: Overlays = { boxes: a.regions };
  if (a.band !== undefined) o.band = { rows: a.band, cols: a.grid.wrapLon > 0 ? 0 : a.band };
  const border = a.mapFindings.find((f) => f.code === 'LRP202');
  if (border?.data) {
    const sides = ['top', 'bottom', 'left', 'right'] as const;
    o.flagged = sides.flatMap((side) => {
      const lines = border.data![`${side}Flagged`];
      const factor = border.data![`${side}Factor`];
      if (!Array.isArray(lines) || !lines.length) return [];
      return [{ side, lines, label: typeof factor === 'number' ? `x${factor.toFixed(2)}` : 'LRP202' }];
    });
    o.flaggedStrong = border.severity !== 'information';
  }
  if (a.stride?.strided && (codes.has('LRP102') || codes.has('LRP203'))) o.stride = { period: a.stride.period, colOffset: a.grid.wrapLon };
  return o;
}

export async function modelFigures(a: ModelAnalysis): Promise<FigureFile[]> {
  const { lat, lon, masked } = a.grid;
  const base = safeName(a.name);
  const out: FigureFile[] = [];
  const boxes = a.regions;
  const outlined = boxes.length === 1 ? `the outlined box is ${boxes[0].name}` : `the outlined boxes are ${boxes.map((b) => b.name).join(', ')}`;

  const limits = sharedLimits(a.classes.map((c) => c.mean), { percentile: CLIP });
  out.push({
    name: `${base}-classes.png`,
    kind: 'classes',
    caption: `Mean relevance per class (${a.classes.map((c) => `${c.name}: ${c.n} samples, target ${c.name}`).join('; ')}), composite ${a.composite}; shared symmetric scale clipped at the ${CLIP}th percentile of |R|; ${outlined}${masked ? '; hatched cells are masked (land)' : ''}.`,
    png: await renderMapFigure({
      lat, lon, kind: 'diverging', limits, colorbarLabel: `mean relevance (clip p${CLIP})`,
      panels: a.classes.map((c) => ({ title: `${c.name} (n=${c.n})`, values: c.mean, masked, overlays: { boxes } })),
    }),
  });

  const ov = artifactOverlays(a);
  const parts = [outlined];
  if (ov.band) parts.push(`the faint pink band, ${a.band} cell(s) wide (the first layer's receptive field), is where zero padding can act${ov.band.cols === 0 ? ' (latitude edges only: longitude is wrapped periodically)' : ''}`);
  if (ov.flagged?.length) {
    const f = a.mapFindings.find((x) => x.code === 'LRP202')!;
    const name = typeof f.data?.controlName === 'string' ? f.data.controlName : '';
    const vs = name && name !== 'none' ? ` against ${name.startsWith('the ') ? name : `the ${name}`}` : '';
    const how = ov.flaggedStrong ? `filled pink lines are the ones LRP202 flags${vs}` : `pink-tinted lines are the ones LRP202 notes${vs}, as information only (no geometry twin: a quiet border may be physics)`;
    // The check names sides of the data array; row 0 is the south edge on a grid stored south to north
    // (the frame the figure is drawn in says which).
    const southFirst = geoFrame({ lat, lon })?.flipRows ?? false;
    const geo = { top: southFirst ? 'south' : 'north', bottom: southFirst ? 'north' : 'south', left: 'west', right: 'east' };
    parts.push(`${how}, labelled with the strongest line's factor: ${ov.flagged.map((x) => `${geo[x.side]} edge ${x.label} (${x.lines.length} line${x.lines.length > 1 ? 's' : ''})`).join(', ')}`);
  }
  if (ov.stride) parts.push(`thin lines mark the stride-${ov.stride.period} phase grid`);
  if (masked) parts.push('hatched cells are masked');
  out.push({
    name: `${base}-artifacts.png`,
    kind: 'artifacts',
    caption: `Mean share of |R| per cell over the ${a.classes.reduce((n, c) => n + c.n, 0)} samples (predicted class), with the artifact overlays: ${parts.join('; ')}.`,
    png: await renderMapFigure({
      lat, lon, kind: 'sequential', limits: seqLimits([a.trainedAbs]), colorbarLabel: `|R| share per cell (clip p${CLIP})`,
      panels: [{ title: 'mean |R| share, trained model', values: a.trainedAbs, masked, overlays: ov }],
    }),
  });

  // Without the artifact: each warning's remedy twin (same weights, the remedy applied: padding, pooling or
  // the first layer's rule) next to the user's map.
  const n = a.classes.reduce((k, c) => k + c.n, 0);
  for (const t of a.twins) {
    out.push({
      name: `${base}-remedy-${t.code}.png`,
      kind: 'remedy',
      caption: `Without the artifact (${t.code}): mean |R| share of the model as it is and of its ${t.name} on the same ${n} samples (predicted class), shared scale; ${t.statisticName}: ${fmtStat(t.statistic)} for the model, ${fmtStat(t.twinStatistic)} for the twin.`,
      png: await renderMapFigure({
        lat, lon, kind: 'sequential', limits: seqLimits([a.trainedAbs, t.absShare]), colorbarLabel: `|R| share per cell (clip p${CLIP})`,
        panels: [
          { title: `as trained, ${t.code} ${fmtStat(t.statistic)}`, values: a.trainedAbs, masked, overlays: { boxes } },
          { title: `${t.name}, ${fmtStat(t.twinStatistic)}`, values: t.absShare, masked, overlays: { boxes } },
        ],
      }),
    });
  }

  const full = a.randomized[a.randomized.length - 1];
  if (full) {
    out.push({
      name: `${base}-sanity.png`,
      kind: 'sanity',
      caption: `Randomization sanity check (LRP207): mean |R| share of the trained model and of the model with ${full.layers.length} layer(s) re-initialized, cascading from the top (${full.layers.join(', ')}); Pearson correlation of |R| per sample, averaged: ${full.similarity.toFixed(3)}. Shared scale.`,
      png: await renderMapFigure({
        lat, lon, kind: 'sequential', limits: seqLimits([a.trainedAbs, full.absShare]), colorbarLabel: `|R| share per cell (clip p${CLIP})`,
        panels: [
          { title: 'trained', values: a.trainedAbs, masked, overlays: { boxes } },
          { title: `randomized (${full.layers.length} layers), r=${full.similarity.toFixed(2)}`, values: full.absShare, masked, overlays: { boxes } },
        ],
      }),
    });
  }
  return out;
}
