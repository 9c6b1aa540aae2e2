/**
 * The target grammar (what to explain: a class, a contrast, an output pixel or region, all outputs): its
 * type, parser and printer, with no engine dependency, so the project file's parser (core/data) checks
 * `explain.target` with the same grammar the CLI and the server use. Resolving a target against a
 * model's outputs and seeding the backward pass is core/lrp/targets.ts.
 */
import { LensError } from './errors.js';

export type TargetReduce = 'sum' | 'mean';

export type TargetSpec =
  | { type: 'predicted' }
  | { type: 'index'; index: number }
  /** Class a against class b: relevance for f_a - f_b. */
  | { type: 'contrast'; a: number; b: number }
  /** One output cell by its map coordinates (row, col for a 2-D map); the channel may be left out when there is one. */
  | { type: 'pixel'; at: number[]; channel?: number }
  /** A box of the output map, inclusive ranges per spatial axis, its sum or mean. */
  | { type: 'region'; ranges: [number, number][]; channel?: number; reduce: TargetReduce }
  /** Every output of a sample, summed or averaged. */
  | { type: 'all'; reduce: TargetReduce };

const GRAMMAR = "--target must be predicted, a class index, A-B, regression, mean, sum, pixel:ROW,COL[,CH] or region:R0:R1,C0:C1[,CH][,mean|sum]";

function usage(text: string, why?: string): LensError {
  return new LensError('USAGE', `${GRAMMAR}, got '${text}'${why ? ` (${why})` : ''}`);
}

/**
 * 'predicted', an index, 'A-B' (contrast), 'regression' (the single output, index 0), 'mean'/'sum' (over
 * all outputs), 'pixel:ROW,COL[,CH]' or 'region:R0:R1,C0:C1[,CH][,mean|sum]' (ranges inclusive; 3-D maps
 * take one more coordinate or range in front).
 */
export function parseTarget(text: string | undefined): TargetSpec {
  if (text === undefined || text === 'predicted' || text === 'pred' || text === 'argmax') return { type: 'predicted' };
  const t = text.trim();
  if (t === 'regression') return { type: 'index', index: 0 };
  if (t === 'mean' || t === 'sum') return { type: 'all', reduce: t };
  const m = /^(\d+)\s*-\s*(\d+)$/.exec(t);
  if (m) return { type: 'contrast', a: Number(m[1]), b: Number(m[2]) };
  if (/^\d+$/.test(t)) return { type: 'index', index: Number(t) };
  const colon = t.indexOf(':');
  const kind = colon < 0 ? t : t.slice(0, colon);
  if (kind === 'pixel') {
    const parts = t.slice(colon + 1).split(',').map((s) => s.trim());
    if (parts.length < 2 || parts.length > 4 || !parts.every((p) => /^\d+$/.test(p))) throw usage(text, 'pixel takes 2 or 3 coordinates and an optional channel');
    // The coordinates-versus-channel split needs the output's rank: kept whole here, split in selectionOf.
    return { type: 'pixel', at: parts.map(Number) };
  }
  if (kind === 'region') {
    const parts = t.slice(colon + 1).split(',').map((s) => s.trim());
    let reduce: TargetReduce = 'sum';
    if (parts.length && (parts[parts.length - 1] === 'mean' || parts[parts.length - 1] === 'sum')) reduce = parts.pop() as TargetReduce;
    const ranges: [number, number][] = [];
    let channel: number | undefined;
    for (const [i, p] of parts.entries()) {
      const r = /^(\d+)\s*:\s*(\d+)$/.exec(p);
      if (r) {
        if (channel !== undefined) throw usage(text, 'the channel comes after the ranges');
        const a = Number(r[1]);
        const b = Number(r[2]);
        if (b < a) throw usage(text, `range ${p} is empty`);
        ranges.push([a, b]);
      } else if (/^\d+$/.test(p) && i === parts.length - 1 && ranges.length) channel = Number(p);
      else throw usage(text, `'${p}' is not a range FROM:TO`);
    }
    if (ranges.length < 2 || ranges.length > 3) throw usage(text, 'region takes 2 or 3 ranges');
    return channel === undefined ? { type: 'region', ranges, reduce } : { type: 'region', ranges, channel, reduce };
  }
  throw usage(text);
}

/** A map target as requests carry it (the language server's OutputTarget): reduce may be left out (sum). */
export type OutputTargetSpec =
  | Extract<TargetSpec, { type: 'pixel' }>
  | (Omit<Extract<TargetSpec, { type: 'region' }>, 'reduce'> & { reduce?: TargetReduce })
  | Extract<TargetSpec, { type: 'all' }>;

/** The TargetSpec of a request's map target. */
export function outputTargetSpec(o: OutputTargetSpec): TargetSpec {
  return o.type === 'region' ? { ...o, reduce: o.reduce ?? 'sum' } : o;
}

/** A target in the grammar parseTarget reads (for reports and attributes). */
export function formatTarget(spec: TargetSpec): string {
  switch (spec.type) {
    case 'predicted':
      return 'predicted';
    case 'index':
      return String(spec.index);
    case 'contrast':
      return `${spec.a}-${spec.b}`;
    case 'all':
      return spec.reduce;
    case 'pixel':
      return `pixel:${[...spec.at, ...(spec.channel === undefined ? [] : [spec.channel])].join(',')}`;
    case 'region':
      return `region:${[...spec.ranges.map(([a, b]) => `${a}:${b}`), ...(spec.channel === undefined ? [] : [String(spec.channel)]), spec.reduce].join(',')}`;
  }
}

