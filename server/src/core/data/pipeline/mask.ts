/**
 * Steps 3 and 4, mask and fill: the mask over the per-sample grid ("missing" = cells with a value in
 * every sample and channel, or a mask variable), then missing cells (NaN) become the fill value.
 */
import { atKey, KeyedError } from '../keyed.js';
import { planField, readPlan, withSource } from '../load.js';
import type { ModelEntry } from '../project.js';
import type { Selection } from '../select.js';
import type { SampleAxes } from './axes.js';
import { P, abs, selectionOf } from './entry.js';

/** The mask over the per-sample grid (per order), from the values before filling; undefined without "mask". */
export async function gridMask(e: ModelEntry, chans: Float32Array[], axes: SampleAxes): Promise<Uint8Array | undefined> {
  const { nSamples, cells, per, perShape } = axes;
  if (e.mask === 'missing') {
    const m = new Uint8Array(cells).fill(1);
    for (const v of chans) for (let t = 0; t < nSamples; t++) for (let i = 0; i < cells; i++) if (Number.isNaN(v[t * cells + i])) m[i] = 0;
    return m;
  }
  return e.mask ? readMask(e, per, perShape) : undefined;
}

/** Missing values (NaN) become `fill`, in place. */
export function fillMissing(chans: Float32Array[], fill: number): void {
  for (const v of chans) for (let i = 0; i < v.length; i++) if (Number.isNaN(v[i])) v[i] = fill;
}

/** The mask's file, variable and selection (default: the data's selection on the dims the mask shares). */
function maskSource(e: ModelEntry): { file: string; variable: string; select: Selection } {
  const m = e.mask as Exclude<ModelEntry['mask'], 'missing' | undefined>;
  return { file: abs(e, m.file ?? e.data.file), variable: m.variable, select: selectionOf(m.select ?? e.data.select) };
}

export async function planMask(e: ModelEntry, per: string[], perShape: number[]): Promise<number[]> {
  const mp = P(e, 'mask');
  const { file, variable, select } = maskSource(e);
  return atKey(mp, () =>
    withSource(file, {}, async (s) => {
      const own: Selection = {};
      const info = s.variables.find((v) => v.name === variable);
      for (const [k, v] of Object.entries(select)) if (info?.dims.includes(k)) own[k] = v;
      const p = await planField(s, { variable, select: own });
      const sq = p.shape.filter((n) => n !== 1);
      const want = perShape.filter((n) => n !== 1);
      if (sq.join() !== want.join()) {
        throw new KeyedError('SHAPE_MISMATCH', `mask ${variable} is [${p.shape}], the data grid is [${perShape}] (${per.join(', ')})`, mp, { file });
      }
      return p.shape;
    }),
  );
}

async function readMask(e: ModelEntry, per: string[], perShape: number[]): Promise<Uint8Array> {
  await planMask(e, per, perShape);
  const m = e.mask as Exclude<ModelEntry['mask'], 'missing' | undefined>;
  const { file, variable, select } = maskSource(e);
  return atKey(P(e, 'mask'), () =>
    withSource(file, {}, async (s) => {
      const info = s.variables.find((v) => v.name === variable);
      const own: Selection = {};
      for (const [k, v] of Object.entries(select)) if (info?.dims.includes(k)) own[k] = v;
      const f = await readPlan(await planField(s, { variable, select: own }));
      const valid = m.valid ?? 'nonzero';
      const out = new Uint8Array(f.values.length);
      for (let i = 0; i < out.length; i++) {
        const v = f.values[i];
        out[i] = Number.isNaN(v) ? 0 : valid === 'nonzero' ? Number(v !== 0) : valid === 'zero' ? Number(v === 0) : Number(valid.includes(v));
      }
      return out;
    }),
  );
}
