/**
 * Selections along named dims, written `DIM=SPEC[,DIM=SPEC...]` on the command line or as an object in
 * lrp-lens.json. SPEC:
 *   `START:STOP`  index range, stop exclusive, either end may be left out, negatives count from the end
 *   `I`           one index; the dim is dropped
 *   `2015-01:2015-12`, `1997-12`  a date range on a time dim, inclusive at both ends, any date prefix
 *   `~V`          the coordinate value nearest to V (a level such as `~500`); the dim is dropped
 *   `~A:~B`       coordinate values between A and B inclusive (either order: latitudes may descend)
 * A DIM may also be an axis name (lat, lon, time, level) standing for the dim found by CF conventions.
 */
import { LensError } from '../errors.js';
import type { Hyperslab } from './source.js';
import { suggest } from './similar.js';

export type DimSelection =
  | { kind: 'range'; start?: number; stop?: number }
  | { kind: 'index'; index: number }
  | { kind: 'time'; from?: string; to?: string }
  | { kind: 'value'; value: number }
  | { kind: 'valueRange'; from: number; to: number };

export type Selection = Record<string, DimSelection>;

/** A date needs at least year and month, so that '2015' stays an index. */
const DATE = /^-?\d{4}-\d{1,2}(-\d{1,2}([T ]\d{1,2}(:\d{2}(:\d{2})?)?)?)?$/;
const INT = /^-?\d+$/;

/** A date's month and day must exist on a calendar (a 360-day calendar has day 30 of February). */
function validDate(s: string): boolean {
  const m = /^-?\d{4}-(\d{1,2})(?:-(\d{1,2}))?/.exec(s);
  if (!m) return false;
  const month = Number(m[1]);
  const day = m[2] === undefined ? 1 : Number(m[2]);
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/**
 * One dim's SPEC from text, a number, a [start, stop] pair or an object ({start, stop} | {index} |
 * {from, to} | {value}). Anything else is BAD_INPUT naming the selection; a range that is empty
 * whatever the data (`5:2`) is SELECTION_OUT_OF_RANGE.
 */
export function parseDimSelection(dim: string, spec: unknown): DimSelection {
  const bad = (why: string): never => {
    throw new LensError('BAD_INPUT', `selection ${dim}=${JSON.stringify(spec)}: ${why}`);
  };
  const index = (x: unknown): number => {
    if (typeof x !== 'number' || !Number.isSafeInteger(x)) bad('an index must be an integer');
    return x as number;
  };
  const range = (start: number | undefined, stop: number | undefined): DimSelection => {
    // Same sign: both count from the same end, so start >= stop is empty on any data.
    if (start !== undefined && stop !== undefined && (start < 0) === (stop < 0) && start >= stop) {
      throw new LensError('SELECTION_OUT_OF_RANGE', `selection ${dim}=${JSON.stringify(spec)}: the range ${start}:${stop} is empty (stop is exclusive and must be after start)`);
    }
    return { kind: 'range', start, stop };
  };
  const finite = (x: unknown, what: string): number => {
    if (typeof x !== 'number' || !Number.isFinite(x)) bad(`${what} must be a finite number`);
    return x as number;
  };
  if (typeof spec === 'number') return { kind: 'index', index: index(spec) };
  if (Array.isArray(spec)) {
    if (spec.length !== 2) bad('expected [start, stop] integers');
    return range(spec[0] === null ? undefined : index(spec[0]), spec[1] === null ? undefined : index(spec[1]));
  }
  if (spec && typeof spec === 'object') {
    const o = spec as Record<string, unknown>;
    if ('index' in o) return { kind: 'index', index: index(o.index) };
    if ('value' in o) return { kind: 'value', value: finite(o.value, 'value') };
    if (('from' in o || 'to' in o) && [o.from, o.to].every((x) => x === undefined || typeof x === 'string')) {
      for (const d of [o.from, o.to] as (string | undefined)[]) if (d !== undefined && !(DATE.test(d.trim()) && validDate(d.trim()))) bad(`'${d}' is not a date (YYYY-MM[-DD[ hh[:mm[:ss]]]])`);
      return { kind: 'time', from: o.from as string | undefined, to: o.to as string | undefined };
    }
    if ('from' in o || 'to' in o) return { kind: 'valueRange', from: finite(o.from, 'from'), to: finite(o.to, 'to') };
    if ('start' in o || 'stop' in o) {
      return range(o.start === undefined ? undefined : index(o.start), o.stop === undefined ? undefined : index(o.stop));
    }
    return bad('expected {start, stop}, {index}, {from, to} or {value}');
  }
  if (typeof spec !== 'string') return bad('expected a string, a number, [start, stop] or an object');
  const s = spec.trim();
  if (s.length > 200) bad('a selection is at most 200 characters');
  const num = (t: string): number => (INT.test(t) ? index(Number(t)) : bad(`'${t}' is not an integer`));
  if (INT.test(s)) return { kind: 'index', index: num(s) };
  if (s.startsWith('~')) {
    const parts = s.split(':');
    const val = (t: string): number => {
      const body = t.replace(/^~/, '').trim();
      const v = body === '' ? NaN : Number(body);
      if (!Number.isFinite(v)) bad(`'${t}' needs a finite number after ~`);
      return v;
    };
    if (parts.length === 1) return { kind: 'value', value: val(s) };
    if (parts.length !== 2) bad('expected ~A:~B');
    return { kind: 'valueRange', from: val(parts[0]), to: val(parts[1]) };
  }
  if (DATE.test(s)) {
    if (!validDate(s)) bad(`'${s}' is not a calendar date`);
    return { kind: 'time', from: s, to: s };
  }
  // Date ranges: try each ':' as the separator (times of day contain ':' too).
  for (let i = s.indexOf(':'); i >= 0; i = s.indexOf(':', i + 1)) {
    const a = s.slice(0, i);
    const b = s.slice(i + 1);
    if ((a === '' || DATE.test(a)) && (b === '' || DATE.test(b)) && (a !== '' || b !== '')) {
      for (const d of [a, b]) if (d !== '' && !validDate(d)) bad(`'${d}' is not a calendar date`);
      return { kind: 'time', from: a || undefined, to: b || undefined };
    }
  }
  const parts = s.split(':');
  if (parts.length === 3) bad('steps (START:STOP:STEP) are not supported');
  if (parts.length === 2) return range(parts[0] === '' ? undefined : num(parts[0]), parts[1] === '' ? undefined : num(parts[1]));
  return bad('expected START:STOP, an index, a date range (2015-01:2015-12), ~VALUE or ~A:~B');
}

/** `time=0:12,lat=10:20` -> Selection. */
export function parseSelection(text: string): Selection {
  const out: Selection = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new LensError('BAD_INPUT', `selection '${part}' is not DIM=SPEC`);
    const dim = part.slice(0, eq).trim();
    if (Object.prototype.hasOwnProperty.call(out, dim)) throw new LensError('BAD_INPUT', `selection '${text}' names ${dim} twice`);
    Object.defineProperty(out, dim, { value: parseDimSelection(dim, part.slice(eq + 1)), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export interface DimCoords {
  values?: ArrayLike<number>;
  dates?: string[];
}

export interface ResolvedSelection {
  slab: Hyperslab;
  /** Dims removed from the result (single index / nearest value). */
  drop: boolean[];
}

function outOfRange(msg: string, file?: string): LensError {
  return new LensError('SELECTION_OUT_OF_RANGE', msg, { file });
}

/** Normalise a dim selection's start so that it compares with date strings of the form YYYY-MM-DD. */
function datePrefix(s: string): string {
  const m = /^(-?\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?(.*)$/.exec(s.trim());
  if (!m) return s;
  return [m[1], m[2]?.padStart(2, '0'), m[3]?.padStart(2, '0')].filter((x) => x !== undefined).join('-') + (m[4] ?? '').replace(' ', 'T');
}

/**
 * Selection -> hyperslab over a variable. `alias` maps axis names (lat, lon, time, level) to dims;
 * `coords(dim)` gives a dim's coordinate values and dates where there are any.
 */
export function resolveSelection(
  sel: Selection,
  varName: string,
  dims: string[],
  shape: number[],
  coords: (dim: string) => DimCoords,
  alias: Record<string, string | undefined> = {},
  file?: string,
): ResolvedSelection {
  const slab: Hyperslab = shape.map((n) => [0, n]);
  const drop = shape.map(() => false);
  for (const [key, spec] of Object.entries(sel)) {
    let d = dims.indexOf(key);
    if (d < 0 && alias[key] !== undefined) d = dims.indexOf(alias[key]!);
    if (d < 0) throw outOfRange(`${varName} has no dimension '${key}' (dims: ${dims.join(', ') || 'none'}).${suggest(key, [...new Set([...dims, ...Object.keys(alias).filter((k) => alias[k])])], 'dims').replace(/^ /, ' ')}`, file);
    const n = shape[d];
    const dim = dims[d];
    const text = (s: DimSelection): string => JSON.stringify(s).replace(/"kind":"\w+",?/, '');
    switch (spec.kind) {
      case 'index': {
        const i = spec.index < 0 ? n + spec.index : spec.index;
        if (i < 0 || i >= n) throw outOfRange(`${dim}=${spec.index} is outside ${dim}'s ${n} steps (0..${n - 1})`, file);
        slab[d] = [i, i + 1];
        drop[d] = true;
        break;
      }
      case 'range': {
        const norm = (x: number | undefined, dflt: number): number => (x === undefined ? dflt : x < 0 ? n + x : x);
        const a = norm(spec.start, 0);
        const b = norm(spec.stop, n);
        if (a < 0 || b > n || a >= b) {
          throw outOfRange(`${dim}=${spec.start ?? ''}:${spec.stop ?? ''} is outside ${dim}'s ${n} steps (0..${n}) or empty`, file);
        }
        slab[d] = [a, b];
        break;
      }
      case 'time': {
        const dates = coords(dim).dates;
        if (!dates) throw outOfRange(`${dim} has no decoded time coordinate to select dates from; use index ranges START:STOP`, file);
        const from = spec.from ? datePrefix(spec.from) : undefined;
        const to = spec.to ? datePrefix(spec.to) : undefined;
        const ok = dates.map((t) => (from === undefined || t.slice(0, from.length) >= from) && (to === undefined || t.slice(0, to.length) <= to));
        const a = ok.indexOf(true);
        const b = ok.lastIndexOf(true) + 1;
        if (a < 0) {
          throw outOfRange(`${dim}=${spec.from ?? ''}:${spec.to ?? ''} selects no time step; ${dim} runs from ${dates[0]} to ${dates[dates.length - 1]}`, file);
        }
        slab[d] = [a, b];
        break;
      }
      case 'value':
      case 'valueRange': {
        const vals = coords(dim).values;
        if (!vals || vals.length !== n) throw outOfRange(`${dim} has no coordinate values to select ${text(spec)} from; use indices`, file);
        if (spec.kind === 'value') {
          let best = -1;
          let bd = Infinity;
          for (let i = 0; i < n; i++) {
            const dd = Math.abs(vals[i] - spec.value);
            if (dd < bd) {
              bd = dd;
              best = i;
            }
          }
          const step = n > 1 ? Math.abs(vals[1] - vals[0]) : Infinity;
          if (best < 0 || bd > step) throw outOfRange(`${dim}=~${spec.value}: no coordinate near ${spec.value} (range ${vals[0]}..${vals[n - 1]})`, file);
          slab[d] = [best, best + 1];
          drop[d] = true;
        } else {
          const lo = Math.min(spec.from, spec.to);
          const hi = Math.max(spec.from, spec.to);
          const idx: number[] = [];
          for (let i = 0; i < n; i++) if (vals[i] >= lo && vals[i] <= hi) idx.push(i);
          if (idx.length === 0) throw outOfRange(`${dim}=~${spec.from}:~${spec.to} selects nothing (range ${vals[0]}..${vals[n - 1]})`, file);
          slab[d] = [idx[0], idx[idx.length - 1] + 1];
        }
        break;
      }
    }
  }
  return { slab, drop };
}
