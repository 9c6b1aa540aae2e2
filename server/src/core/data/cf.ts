/**
 * CF conventions (https://cfconventions.org): which dimension is latitude, longitude, time or level;
 * unpacking (scale_factor, add_offset) and missing data (_FillValue, missing_value, valid_range) to NaN;
 * time coordinates ("days since 1800-01-01") decoded to dates in the variable's calendar
 * (standard/gregorian, proleptic_gregorian, julian, noleap/365_day, all_leap/366_day, 360_day).
 * "standard" is computed as proleptic Gregorian: exact for dates after 1582-10-15.
 */
import { LensError } from '../errors.js';
import { ownTable } from '../own-table.js';
import type { NdArray } from '../array.js';
import type { AttrValue, VarInfo } from './source.js';

export type Axis = 'lat' | 'lon' | 'time' | 'level';

function str(a: AttrValue | undefined): string {
  return typeof a === 'string' ? a.trim() : '';
}

/** The axis a coordinate variable stands for, from standard_name, units, axis or its name. */
export function axisOf(v: Pick<VarInfo, 'name' | 'attrs'>): Axis | undefined {
  const sn = str(v.attrs.standard_name).toLowerCase();
  const units = str(v.attrs.units).toLowerCase();
  const axis = str(v.attrs.axis).toUpperCase();
  const name = v.name.split('/').pop()!.toLowerCase();
  if (sn === 'latitude' || sn === 'grid_latitude' || /^degrees?_?n(orth)?$/.test(units) || axis === 'Y' || /^(lat|latitude|nav_lat|y_lat)$/.test(name)) return 'lat';
  if (sn === 'longitude' || sn === 'grid_longitude' || /^degrees?_?e(ast)?$/.test(units) || axis === 'X' || /^(lon|long|longitude|nav_lon)$/.test(name)) return 'lon';
  if (sn === 'time' || / since /.test(units) || axis === 'T' || /^(time|t)$/.test(name)) return 'time';
  if (axis === 'Z' || /^(air_pressure|depth|height|altitude|model_level_number)$/.test(sn) || /^(lev|level|plev|depth|height|z)$/.test(name)) return 'level';
  return undefined;
}

export interface CfDecoding {
  fill: number[];
  scale: number;
  offset: number;
  validMin: number;
  validMax: number;
  /** Packed: scale_factor or add_offset present (values are not the stored integers). */
  packed: boolean;
}

function nums(a: AttrValue | undefined): number[] {
  if (typeof a === 'number') return [a];
  if (Array.isArray(a)) return a;
  if (typeof a === 'string' && a.trim() !== '' && !Number.isNaN(Number(a))) return [Number(a)];
  return [];
}

export function decodingOf(info: Pick<VarInfo, 'attrs'>): CfDecoding {
  const a = info.attrs;
  const fill = [...new Set([...nums(a._FillValue), ...nums(a.missing_value)])];
  const scale = nums(a.scale_factor)[0] ?? 1;
  const offset = nums(a.add_offset)[0] ?? 0;
  const vr = nums(a.valid_range);
  const validMin = nums(a.valid_min)[0] ?? (vr.length === 2 ? vr[0] : -Infinity);
  const validMax = nums(a.valid_max)[0] ?? (vr.length === 2 ? vr[1] : Infinity);
  return { fill, scale, offset, validMin, validMax, packed: 'scale_factor' in a || 'add_offset' in a };
}

/**
 * Stored values to physical values: missing (fill, missing_value, outside valid range, NaN) -> NaN,
 * then value * scale_factor + add_offset. Fill and valid range compare the stored (packed) values,
 * as CF says. Float32 out (Float64 when `double` is set, for coordinates).
 */
export function decodeValues(raw: NdArray, dec: CfDecoding, double = false): Float32Array | Float64Array {
  const n = raw.data.length;
  const out = double ? new Float64Array(n) : new Float32Array(n);
  const src = raw.data;
  // Fill values of float variables are stored rounded to the variable's type: compare in that type.
  const f32 = raw.data instanceof Float32Array;
  const fills = dec.fill.map((f) => (f32 ? Math.fround(f) : f));
  const checkRange = dec.validMin !== -Infinity || dec.validMax !== Infinity;
  // A file may declare thousands of fill values: a set keeps the pass linear in values + fills.
  const fillSet = fills.length > 8 ? new Set(fills) : undefined;
  for (let i = 0; i < n; i++) {
    const v = src[i];
    let missing = Number.isNaN(v);
    if (fillSet) missing ||= fillSet.has(v);
    else for (let k = 0; k < fills.length && !missing; k++) if (v === fills[k]) missing = true;
    if (!missing && checkRange && (v < dec.validMin || v > dec.validMax)) missing = true;
    out[i] = missing ? NaN : v * dec.scale + dec.offset;
  }
  return out;
}

export interface CfDate {
  year: number;
  month: number;
  day: number;
  /** Seconds into the day. */
  seconds: number;
}

const CAL_ALIASES: Record<string, string> = ownTable({
  standard: 'gregorian', gregorian: 'gregorian', proleptic_gregorian: 'gregorian', '': 'gregorian',
  noleap: '365_day', '365_day': '365_day', all_leap: '366_day', '366_day': '366_day', '360_day': '360_day', julian: 'julian',
});

const UNIT_SECONDS: Record<string, number> = ownTable({
  second: 1, seconds: 1, sec: 1, secs: 1, s: 1,
  minute: 60, minutes: 60, min: 60, mins: 60,
  hour: 3600, hours: 3600, hr: 3600, hrs: 3600, h: 3600,
  day: 86400, days: 86400, d: 86400,
  week: 604800, weeks: 604800,
});

const CUM365 = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
const CUM366 = [0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335];

/** Days from a calendar's epoch to y-m-d. */
function toDays(cal: string, y: number, m: number, d: number): number {
  switch (cal) {
    case '360_day': return y * 360 + (m - 1) * 30 + (d - 1);
    case '365_day': return y * 365 + CUM365[m - 1] + (d - 1);
    case '366_day': return y * 366 + CUM366[m - 1] + (d - 1);
    case 'julian': {
      const a = Math.floor((14 - m) / 12);
      const yy = y + 4800 - a;
      const mm = m + 12 * a - 3;
      return d + Math.floor((153 * mm + 2) / 5) + 365 * yy + Math.floor(yy / 4) - 32083;
    }
    default: {
      const t = new Date(0);
      t.setUTCFullYear(y, m - 1, d);
      t.setUTCHours(0, 0, 0, 0);
      return Math.round(t.getTime() / 86400000);
    }
  }
}

function fromDays(cal: string, days: number): [number, number, number] {
  const split = (per: number, cum: number[]): [number, number, number] => {
    const y = Math.floor(days / per);
    let r = days - y * per;
    let m = 11;
    while (cum[m] > r) m--;
    r -= cum[m];
    return [y, m + 1, r + 1];
  };
  switch (cal) {
    case '360_day': {
      const y = Math.floor(days / 360);
      const r = days - y * 360;
      return [y, Math.floor(r / 30) + 1, (r % 30) + 1];
    }
    case '365_day': return split(365, CUM365);
    case '366_day': return split(366, CUM366);
    case 'julian': {
      const c = days + 32082;
      const d = Math.floor((4 * c + 3) / 1461);
      const e = c - Math.floor((1461 * d) / 4);
      const m = Math.floor((5 * e + 2) / 153);
      return [d - 4800 + Math.floor(m / 10), m + 3 - 12 * Math.floor(m / 10), e - Math.floor((153 * m + 2) / 5) + 1];
    }
    default: {
      const t = new Date(days * 86400000);
      return [t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate()];
    }
  }
}

export interface TimeUnits {
  unit: string;
  seconds: number;
  /** 'months'/'years': calendar months/years (exact for integer offsets). */
  calendarUnit?: 'months' | 'years';
  ref: CfDate;
  calendar: string;
}

export function parseTimeUnits(units: string, calendar = 'standard', file?: string): TimeUnits {
  const m = /^\s*(\w+)\s+since\s+(-?\d{1,4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?)?/i.exec(units);
  if (!m) throw new LensError('DATA_ERROR', `time units '${units}' are not '<unit> since <date>'`, { file });
  const cal = CAL_ALIASES[calendar.trim().toLowerCase()];
  if (!cal) throw new LensError('DATA_ERROR', `unsupported calendar '${calendar}' (supported: ${Object.keys(CAL_ALIASES).filter(Boolean).join(', ')})`, { file });
  const unit = m[1].toLowerCase();
  const ref: CfDate = { year: +m[2], month: +m[3], day: +m[4], seconds: (+(m[5] ?? 0)) * 3600 + (+(m[6] ?? 0)) * 60 + +(m[7] ?? 0) };
  if (unit === 'months' || unit === 'month') return { unit, seconds: NaN, calendarUnit: 'months', ref, calendar: cal };
  if (unit === 'years' || unit === 'year') return { unit, seconds: NaN, calendarUnit: 'years', ref, calendar: cal };
  const seconds = UNIT_SECONDS[unit];
  if (!seconds) throw new LensError('DATA_ERROR', `unknown time unit '${m[1]}' in '${units}'`, { file });
  return { unit, seconds, ref, calendar: cal };
}

/** Decode CF time values to dates. */
export function decodeTimes(values: ArrayLike<number>, units: string, calendar?: string, file?: string): CfDate[] {
  const tu = parseTimeUnits(units, calendar ?? 'standard', file);
  const out: CfDate[] = [];
  const refDays = toDays(tu.calendar, tu.ref.year, tu.ref.month, tu.ref.day);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      out.push({ year: NaN, month: NaN, day: NaN, seconds: NaN });
      continue;
    }
    if (tu.calendarUnit) {
      const months = Math.round(tu.calendarUnit === 'years' ? v * 12 : v);
      const total = tu.ref.year * 12 + (tu.ref.month - 1) + months;
      out.push({ year: Math.floor(total / 12), month: (((total % 12) + 12) % 12) + 1, day: tu.ref.day, seconds: tu.ref.seconds });
      continue;
    }
    const secs = Math.round(tu.ref.seconds + v * tu.seconds);
    const dayOff = Math.floor(secs / 86400);
    const [y, mo, d] = fromDays(tu.calendar, refDays + dayOff);
    out.push({ year: y, month: mo, day: d, seconds: secs - dayOff * 86400 });
  }
  return out;
}

const p2 = (n: number): string => String(n).padStart(2, '0');

/** ISO-like text: 'YYYY-MM-DD', with 'THH:MM[:SS]' when the time of day is not midnight. */
export function formatDate(t: CfDate): string {
  if (!Number.isFinite(t.year)) return 'NaT';
  const y = t.year < 0 ? `-${String(-t.year).padStart(4, '0')}` : String(t.year).padStart(4, '0');
  let s = `${y}-${p2(t.month)}-${p2(t.day)}`;
  if (t.seconds) {
    const h = Math.floor(t.seconds / 3600);
    const mi = Math.floor((t.seconds % 3600) / 60);
    const se = Math.round(t.seconds % 60);
    s += `T${p2(h)}:${p2(mi)}${se ? `:${p2(se)}` : ''}`;
  }
  return s;
}
