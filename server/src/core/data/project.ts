/**
 * The project file `lrp-lens.json`: which data go with which model, and how to turn them into the
 * model's input. At the workspace root (or given with `--config`). Paths are relative to the file.
 * Full reference: docs/lrp-lens-json.md; JSON Schema: schemas/lrp-lens.schema.json.
 *
 *   {
 *     "version": 1,
 *     "models": [{
 *       "name": "sst-cnn",                         // --model NAME (default: the model file's base name)
 *       "model": "models/*.h5",                    // model path or glob (*, **, ?)
 *       "data": {
 *         "file": "data/sst.mnmean.nc",            // .npy .npz .nc (NetCDF-3/4) .h5 images .csv CPC index text
 *         "variable": "sst",                       // or "variables": ["sst", "ssh"]: stacked as channels
 *         "select": { "time": "2015-01:2015-12", "lat": "2:87" },   // see select.ts
 *         "format": "netcdf4",                     // optional: force a reader
 *         "image": { "channels": "rgb", "scale": "0-1" }             // images only
 *       },
 *       "input": {
 *         "sampleDim": "time",                     // the dim that becomes the batch axis (null: one sample)
 *         "layout": ["lat", "lon", "channel"],     // per-sample axis order (default: data dims, channel last)
 *         "flatten": false,                        // one feature vector per sample (MLPs); "valid": only the mask's valid cells
 *         "standardize": { "mean": 0, "std": 1 },  // or per channel arrays, or
 *                        // { "anomaly": "monthly", "period": "1991-01:2020-12", "std": 1 }
 *         "fillValue": 0,                          // what missing cells (NaN) become (default 0)
 *         "wrapLon": 4,                            // periodic longitude: N cells copied on each side
 *         "sequence": { "time": "lon", "reverse": false },  // recurrent models: (time, features) per sample
 *         "coarsen": 2,                            // block means of 2x2 lat/lon cells, before standardization
 *         "clip": [-5, 5]                          // cap the standardized values
 *       },
 *       "labels": { "file": "nino34.ascii", "variable": "NINO3.4_ANOM", "thresholds": [-0.5, 0.5] },
 *                 // or { "values": [0, 2, 1] } or { "variable": "label" } (integer classes)
 *       "classNames": ["La Nina", "Neutral", "El Nino"],
 *       "mask": "missing",                         // or { "file", "variable", "valid": [0] | "nonzero" | "zero" }
 *       "coords": { "lat": "lat", "lon": "lon", "time": "time" },    // when CF detection is not enough
 *       "explain": { "composite": "epsilon-plus-flat", "target": "predicted" }  // or "label" or a class index
 *     }]
 *   }
 *
 * Problems are ProjectIssues: a code, a message, and the JSON key path with its character range.
 */
import { compilePathGlob } from '../glob.js';
import { dirname, resolve } from 'node:path';
import { LensError, type ErrorCode } from '../errors.js';
import type { ImageOptions } from './image.js';
import { parseLocatedJson, pathKey, type JsonLocation, type JsonPath } from '../json/located-json.js';
import { parseDimSelection } from './select.js';
import { DATA_BUDGET } from './budget.js';
import { readRegular } from './regular-file.js';
import { closest } from './similar.js';
import type { SourceFormat } from './source.js';
import { parseTarget } from '../target-spec.js';

/** Whether a string is a target --target reads (predicted, INDEX, A-B, mean, pixel:..., region:...). */
function isTargetText(t: string): boolean {
  try {
    parseTarget(t);
    return true;
  } catch {
    return false;
  }
}

export interface DataSpec {
  file: string;
  variable?: string;
  variables?: string[];
  format?: SourceFormat;
  select?: Record<string, unknown>;
  image?: ImageOptions;
}

export interface ClimatologySpec {
  file?: string;
  variable?: string;
  select?: Record<string, unknown>;
}

export type Standardize =
  | { mean?: number | number[]; std?: number | number[] }
  | { anomaly: 'monthly' | 'mean'; period?: string; climatology?: ClimatologySpec; std?: number | number[] };

export interface InputSpec {
  sampleDim?: string | null;
  layout?: string[];
  /** true: every value; 'valid': only the cells where the mask is 1 (C order). */
  flatten?: boolean | 'valid';
  standardize?: Standardize;
  fillValue?: number;
  wrapLon?: number;
  /** Recurrent models fed a field column by column: each sample becomes (time, features), time = this dim. */
  sequence?: SequenceSpec;
  /** Block means of k x k lat/lon cells (NaN-aware), before standardization. */
  coarsen?: number;
  /** Cap the standardized values to [low, high]. */
  clip?: [number, number];
}

/** `input.sequence`: which per-sample dim is time, and whether it runs backwards. */
export interface SequenceSpec {
  time: string;
  reverse?: boolean;
}

export type LabelSpec =
  | { values: number[] }
  | { file?: string; variable: string; select?: Record<string, unknown>; thresholds?: number[]; threshold?: number };

export type MaskSpec = 'missing' | { file?: string; variable: string; select?: Record<string, unknown>; valid?: number[] | 'nonzero' | 'zero' };

export interface ModelEntry {
  /** Position in `models` (for key paths). */
  index: number;
  /** Folder that relative paths in this entry start from (the project file's folder). */
  baseDir: string;
  name: string;
  model: string;
  data: DataSpec;
  input: InputSpec;
  labels?: LabelSpec;
  classNames?: string[];
  mask?: MaskSpec;
  coords?: { lat?: string; lon?: string; time?: string };
  /** target: 'predicted', 'label', a class index, or any other --target text (pixel:..., region:..., mean, A-B). */
  explain?: { composite?: string; target?: 'predicted' | 'label' | number | (string & {}) };
  /** Named lat/lon boxes drawn on the maps (the panel, the report); the report's default is Nino-3.4. */
  regions?: RegionSpec[];
}

/** `regions[i]`: degrees north [south, north], degrees east [west, east] in the data's longitude convention. */
export interface RegionSpec {
  name: string;
  lat: [number, number];
  lon: [number, number];
}

export interface LensProject {
  /** Absolute path of lrp-lens.json. */
  file: string;
  dir: string;
  text: string;
  version: number;
  models: ModelEntry[];
  locs: Map<string, JsonLocation>;
  /** Warnings found while reading (unknown keys, class-name counts); errors make readProject throw. */
  warnings: ProjectIssue[];
}

export interface ProjectIssue {
  severity: 'error' | 'warning';
  code: ErrorCode;
  message: string;
  path: JsonPath;
  /** [start, end) in the file text: the key's name where the path ends at an object member, else the value. */
  range: [number, number];
}

export class ProjectError extends LensError {
  constructor(readonly issues: ProjectIssue[], file: string) {
    const first = issues.find((i) => i.severity === 'error') ?? issues[0];
    super(first.code, `${formatPath(first.path)}: ${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`, { file });
  }
}

export function formatPath(path: JsonPath): string {
  return path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '') || '(root)';
}

/** The range to underline for a path: its key if it has one, else its value; the nearest existing parent otherwise. */
export function rangeOf(locs: Map<string, JsonLocation>, path: JsonPath): [number, number] {
  for (let n = path.length; n >= 0; n--) {
    const l = locs.get(pathKey(path.slice(0, n)));
    if (l) return l.key ?? l.value;
  }
  return [0, 0];
}

/** Keys each object may hold (the schema's properties; a test keeps the two in step). */
export const KNOWN_KEYS: Record<string, string[]> = {
  root: ['$schema', 'version', 'models'],
  model: ['name', 'model', 'data', 'input', 'labels', 'classNames', 'mask', 'coords', 'explain', 'regions'],
  data: ['file', 'variable', 'variables', 'format', 'select', 'image'],
  image: ['channels', 'scale'],
  input: ['sampleDim', 'layout', 'flatten', 'standardize', 'fillValue', 'wrapLon', 'sequence', 'coarsen', 'clip'],
  sequence: ['time', 'reverse'],
  standardize: ['mean', 'std', 'anomaly', 'period', 'climatology'],
  climatology: ['file', 'variable', 'select'],
  labels: ['values', 'file', 'variable', 'select', 'thresholds', 'threshold'],
  mask: ['file', 'variable', 'select', 'valid'],
  coords: ['lat', 'lon', 'time'],
  explain: ['composite', 'target'],
  region: ['name', 'lat', 'lon'],
};

const FORMATS: SourceFormat[] = ['npy', 'npz', 'netcdf3', 'netcdf4', 'zarr', 'image', 'csv', 'cpc-index'];

type Obj = Record<string, unknown>;

class Checker {
  issues: ProjectIssue[] = [];
  constructor(private locs: Map<string, JsonLocation>) {}

  add(path: JsonPath, message: string, code: ErrorCode = 'CONFIG_ERROR', severity: 'error' | 'warning' = 'error'): void {
    this.issues.push({ severity, code, message, path, range: rangeOf(this.locs, path) });
  }

  obj(v: unknown, path: JsonPath, what: string, keys: string[]): Obj | undefined {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      this.add(path, `${what} must be an object`);
      return undefined;
    }
    for (const k of Object.keys(v)) {
      if (!keys.includes(k)) {
        const c = closest(k, keys);
        this.add([...path, k], `unknown key '${k}' in ${what}.${c ? ` Did you mean '${c}'?` : ` Allowed: ${keys.join(', ')}.`}`, 'CONFIG_ERROR', 'warning');
      }
    }
    return v as Obj;
  }

  str(o: Obj, key: string, path: JsonPath, required = false): string | undefined {
    const v = o[key];
    if (v === undefined) {
      if (required) this.add(path, `'${key}' is required`);
      return undefined;
    }
    if (typeof v !== 'string' || v.trim() === '') {
      this.add([...path, key], `'${key}' must be a non-empty string`);
      return undefined;
    }
    return v;
  }

  num(o: Obj, key: string, path: JsonPath, integer = false, min = -Infinity): number | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || (integer && !Number.isInteger(v)) || v < min) {
      this.add([...path, key], `'${key}' must be ${integer ? 'an integer' : 'a number'}${min > -Infinity ? ` >= ${min}` : ''}`);
      return undefined;
    }
    return v;
  }

  numOrNums(o: Obj, key: string, path: JsonPath): number | number[] | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v === 'number' || (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number'))) return v as number | number[];
    this.add([...path, key], `'${key}' must be a number or an array of numbers (one per channel)`);
    return undefined;
  }

  strs(o: Obj, key: string, path: JsonPath): string[] | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' && x !== '')) return v as string[];
    this.add([...path, key], `'${key}' must be a non-empty array of names`);
    return undefined;
  }

  select(o: Obj, path: JsonPath): Record<string, unknown> | undefined {
    const v = o.select;
    if (v === undefined) return undefined;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      this.add([...path, 'select'], "'select' must be an object of DIM: selection");
      return undefined;
    }
    for (const [dim, spec] of Object.entries(v as Obj)) {
      try {
        parseDimSelection(dim, spec);
      } catch (e) {
        this.add([...path, 'select', dim], (e as Error).message);
      }
    }
    return v as Record<string, unknown>;
  }
}

function checkEntry(c: Checker, raw: unknown, index: number, baseDir: string): ModelEntry | undefined {
  const p: JsonPath = ['models', index];
  const o = c.obj(raw, p, 'a model entry', KNOWN_KEYS.model);
  if (!o) return undefined;
  const model = c.str(o, 'model', p, true);
  const name = c.str(o, 'name', p) ?? (model ? model.split(/[\\/]/).pop()!.replace(/\.[^.]*$/, '') : `model-${index}`);

  let data: DataSpec | undefined;
  if (o.data === undefined) c.add(p, "'data' is required (the data file and variable to explain the model on)");
  else {
    const dp = [...p, 'data'];
    const d = c.obj(o.data, dp, "'data'", KNOWN_KEYS.data);
    if (d) {
      const file = c.str(d, 'file', dp, true);
      const variable = c.str(d, 'variable', dp);
      const variables = c.strs(d, 'variables', dp);
      if (variable && variables) c.add([...dp, 'variables'], "give either 'variable' or 'variables', not both");
      let format: SourceFormat | undefined;
      if (d.format !== undefined) {
        if (!FORMATS.includes(d.format as SourceFormat)) c.add([...dp, 'format'], `'format' must be one of ${FORMATS.join(', ')}`);
        else format = d.format as SourceFormat;
      }
      const select = c.select(d, dp);
      let image: ImageOptions | undefined;
      if (d.image !== undefined) {
        const io = c.obj(d.image, [...dp, 'image'], "'image'", KNOWN_KEYS.image);
        if (io) {
          if (io.channels !== undefined && !['rgb', 'bgr', 'rgba', 'grayscale'].includes(io.channels as string)) c.add([...dp, 'image', 'channels'], "'channels' must be rgb, bgr, rgba or grayscale");
          if (io.scale !== undefined && !['0-1', '0-255', '-1-1'].includes(io.scale as string)) c.add([...dp, 'image', 'scale'], "'scale' must be '0-1', '0-255' or '-1-1'");
          image = io as ImageOptions;
        }
      }
      if (file) data = { file, variable, variables, format, select, image };
    }
  }

  const input: InputSpec = {};
  if (o.input !== undefined) {
    const ip = [...p, 'input'];
    const io = c.obj(o.input, ip, "'input'", KNOWN_KEYS.input);
    if (io) {
      if (io.sampleDim !== undefined && io.sampleDim !== null && typeof io.sampleDim !== 'string') c.add([...ip, 'sampleDim'], "'sampleDim' must be a dim name or null");
      else input.sampleDim = io.sampleDim as string | null | undefined;
      input.layout = c.strs(io, 'layout', ip);
      if (io.flatten !== undefined && typeof io.flatten !== 'boolean' && io.flatten !== 'valid') c.add([...ip, 'flatten'], "'flatten' must be true, false or \"valid\"");
      else input.flatten = io.flatten as boolean | 'valid' | undefined;
      input.fillValue = c.num(io, 'fillValue', ip);
      input.wrapLon = c.num(io, 'wrapLon', ip, true, 0);
      input.coarsen = c.num(io, 'coarsen', ip, true, 1);
      if (io.clip !== undefined) {
        const cl = io.clip;
        if (!Array.isArray(cl) || cl.length !== 2 || !cl.every((x) => typeof x === 'number' && Number.isFinite(x)) || !(cl[0] < cl[1])) c.add([...ip, 'clip'], "'clip' must be [low, high] with low < high (the standardized values are capped to it)");
        else input.clip = [cl[0], cl[1]];
      }
      if (io.sequence !== undefined) {
        const qp = [...ip, 'sequence'];
        const qo = c.obj(io.sequence, qp, "'sequence'", KNOWN_KEYS.sequence);
        if (qo) {
          const time = c.str(qo, 'time', qp, true);
          if (qo.reverse !== undefined && typeof qo.reverse !== 'boolean') c.add([...qp, 'reverse'], "'reverse' must be true or false");
          if (io.flatten !== undefined && io.flatten !== false) c.add([...qp], "'sequence' and 'flatten' exclude each other: a sequence keeps the time axis and flattens the rest of each step");
          if (time) input.sequence = { time, ...(qo.reverse === true ? { reverse: true } : {}) };
        }
      }
      if (io.standardize !== undefined) {
        const sp = [...ip, 'standardize'];
        const so = c.obj(io.standardize, sp, "'standardize'", KNOWN_KEYS.standardize);
        if (so) {
          const std = c.numOrNums(so, 'std', sp);
          if (std !== undefined && (Array.isArray(std) ? std : [std]).some((x) => x <= 0)) c.add([...sp, 'std'], "'std' must be positive");
          if (so.anomaly !== undefined) {
            if (so.anomaly !== 'monthly' && so.anomaly !== 'mean') c.add([...sp, 'anomaly'], "'anomaly' must be 'monthly' (against the mean of each calendar month) or 'mean'");
            if (so.mean !== undefined) c.add([...sp, 'mean'], "'mean' and 'anomaly' exclude each other");
            const period = c.str(so, 'period', sp);
            if (period) {
              try {
                const s = parseDimSelection('time', period);
                if (s.kind !== 'time') throw new Error('not a date range');
              } catch {
                c.add([...sp, 'period'], "'period' must be a date range such as '1991-01:2020-12'");
              }
            }
            let clim: ClimatologySpec | undefined;
            if (so.climatology !== undefined) {
              const cp = [...sp, 'climatology'];
              const co = c.obj(so.climatology, cp, "'climatology'", KNOWN_KEYS.climatology);
              if (co) clim = { file: c.str(co, 'file', cp), variable: c.str(co, 'variable', cp), select: c.select(co, cp) };
            }
            input.standardize = { anomaly: so.anomaly as 'monthly' | 'mean', period, climatology: clim, std };
          } else {
            if (so.period !== undefined || so.climatology !== undefined) c.add([...sp, so.period !== undefined ? 'period' : 'climatology'], "'period' and 'climatology' need 'anomaly'");
            input.standardize = { mean: c.numOrNums(so, 'mean', sp), std };
          }
        }
      }
    }
  }

  let labels: LabelSpec | undefined;
  if (o.labels !== undefined) {
    const lp = [...p, 'labels'];
    const lo = c.obj(o.labels, lp, "'labels'", KNOWN_KEYS.labels);
    if (lo) {
      if (lo.values !== undefined) {
        if (!Array.isArray(lo.values) || !lo.values.every((x) => Number.isInteger(x) && x >= 0)) c.add([...lp, 'values'], "'values' must be an array of class indices (integers >= 0)");
        else labels = { values: lo.values as number[] };
        if (lo.variable !== undefined || lo.file !== undefined) c.add([...lp, 'values'], "give either 'values' or 'variable' (with an optional 'file'), not both");
      } else {
        const variable = c.str(lo, 'variable', lp, true);
        const file = c.str(lo, 'file', lp);
        let thresholds: number[] | undefined;
        if (lo.threshold !== undefined) {
          if (typeof lo.threshold !== 'number') c.add([...lp, 'threshold'], "'threshold' must be a number");
          else thresholds = [lo.threshold];
        }
        if (lo.thresholds !== undefined) {
          const t = lo.thresholds;
          if (!Array.isArray(t) || t.length === 0 || !t.every((x) => typeof x === 'number')) c.add([...lp, 'thresholds'], "'thresholds' must be a non-empty array of numbers");
          else if (t.some((x, i) => i > 0 && x <= t[i - 1])) c.add([...lp, 'thresholds'], "'thresholds' must increase");
          else thresholds = t as number[];
        }
        if (variable) labels = { file, variable, select: c.select(lo, lp), thresholds };
      }
    }
  }

  const classNames = c.strs(o, 'classNames', p);
  if (classNames && labels && 'variable' in labels && labels.thresholds && classNames.length !== labels.thresholds.length + 1) {
    c.add([...p, 'classNames'], `${labels.thresholds.length} threshold(s) make ${labels.thresholds.length + 1} classes, but ${classNames.length} class names are given`, 'CONFIG_ERROR', 'warning');
  }

  let mask: MaskSpec | undefined;
  if (o.mask !== undefined) {
    const mp = [...p, 'mask'];
    if (o.mask === 'missing') mask = 'missing';
    else if (typeof o.mask === 'string') c.add(mp, `'mask' must be "missing" or an object {file, variable, valid}`);
    else {
      const mo = c.obj(o.mask, mp, "'mask'", KNOWN_KEYS.mask);
      if (mo) {
        const variable = c.str(mo, 'variable', mp, true);
        let valid: number[] | 'nonzero' | 'zero' | undefined;
        if (mo.valid !== undefined) {
          if (mo.valid === 'nonzero' || mo.valid === 'zero') valid = mo.valid;
          else if (Array.isArray(mo.valid) && mo.valid.length > 0 && mo.valid.every((x) => typeof x === 'number')) valid = mo.valid as number[];
          else c.add([...mp, 'valid'], "'valid' must be \"nonzero\", \"zero\" or an array of the values that mark valid cells");
        }
        if (variable) mask = { file: c.str(mo, 'file', mp), variable, select: c.select(mo, mp), valid };
      }
    }
  }

  let coords: ModelEntry['coords'];
  if (o.coords !== undefined) {
    const cp = [...p, 'coords'];
    const co = c.obj(o.coords, cp, "'coords'", KNOWN_KEYS.coords);
    if (co) coords = { lat: c.str(co, 'lat', cp), lon: c.str(co, 'lon', cp), time: c.str(co, 'time', cp) };
  }

  let explain: ModelEntry['explain'];
  if (o.explain !== undefined) {
    const ep = [...p, 'explain'];
    const eo = c.obj(o.explain, ep, "'explain'", KNOWN_KEYS.explain);
    if (eo) {
      const t = eo.target;
      if (t !== undefined && t !== 'label' && !(Number.isInteger(t) && (t as number) >= 0) && !(typeof t === 'string' && isTargetText(t))) {
        c.add([...ep, 'target'], "'target' must be \"predicted\", \"label\", a class index, \"A-B\", \"mean\", \"pixel:ROW,COL[,CH]\" or \"region:R0:R1,C0:C1[,CH][,mean|sum]\"");
      }
      explain = { composite: c.str(eo, 'composite', ep), target: t as 'predicted' | 'label' | number | undefined };
    }
  }
  const regions = o.regions === undefined ? undefined : checkRegions(c, o.regions, [...p, 'regions']);
  if (!model || !data) return undefined;
  return { index, baseDir, name, model, data, input, labels, classNames, mask, coords, explain, ...(regions ? { regions } : {}) };
}

/** `regions`: a list of {name, lat: [south, north], lon: [west, east]}; lon may run past 180 or 360 (a box across the seam). */
function checkRegions(c: Checker, v: unknown, p: JsonPath): RegionSpec[] | undefined {
  if (!Array.isArray(v)) {
    c.add(p, "'regions' must be an array of {name, lat: [south, north], lon: [west, east]}");
    return undefined;
  }
  const out: RegionSpec[] = [];
  const range = (o: Obj, key: 'lat' | 'lon', rp: JsonPath, lo: number, hi: number, what: string): [number, number] | undefined => {
    const r = o[key];
    if (r === undefined) { c.add(rp, `'${key}' is required (${what})`); return undefined; }
    if (!Array.isArray(r) || r.length !== 2 || !r.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      c.add([...rp, key], `'${key}' must be [${what}], two numbers`);
      return undefined;
    }
    const [a, b] = r as number[];
    if (!(a < b)) { c.add([...rp, key], `'${key}' must be [${what}] with the first below the second`); return undefined; }
    if (a < lo || b > hi) { c.add([...rp, key], `'${key}' must lie within ${lo}..${hi} degrees`); return undefined; }
    return [a, b];
  };
  v.forEach((g, i) => {
    const rp = [...p, i];
    const o = c.obj(g, rp, 'a region', KNOWN_KEYS.region);
    if (!o) return;
    const name = c.str(o, 'name', rp, true);
    const lat = range(o, 'lat', rp, -90, 90, 'south, north');
    // West below east; a box across the data's seam runs past it (lon [350, 370] or [-10, 10]).
    const lon = range(o, 'lon', rp, -360, 720, 'west, east');
    if (lon && lon[1] - lon[0] > 360) { c.add([...rp, 'lon'], "'lon' spans more than 360 degrees"); return; }
    if (name && out.some((x) => x.name === name)) c.add([...rp, 'name'], `two regions are named '${name}'`, 'CONFIG_ERROR', 'warning');
    if (name && lat && lon) out.push({ name, lat, lon });
  });
  return out;
}

/** Syntax and structure of lrp-lens.json text (no file system access). */
export function parseProject(text: string, file: string): { project?: LensProject; issues: ProjectIssue[] } {
  // Size first: parsing with locations costs far more memory than the text (see located-json.ts).
  if (text.length > DATA_BUDGET.projectBytes) {
    return { issues: [{ severity: 'error', code: 'BUDGET_EXCEEDED', message: `lrp-lens.json of ${text.length} characters, over the projectBytes budget of ${DATA_BUDGET.projectBytes}`, path: [], range: [0, 1] }] };
  }
  let parsed;
  try {
    parsed = parseLocatedJson(text, { file, locations: true });
  } catch (e) {
    const off = (e as { offset?: number }).offset ?? 0;
    return { issues: [{ severity: 'error', code: e instanceof LensError ? e.code : 'BAD_JSON', message: (e as Error).message, path: [], range: [off, Math.min(text.length, off + 1)] }] };
  }
  const c = new Checker(parsed.locs);
  const root = c.obj(parsed.value, [], 'lrp-lens.json', KNOWN_KEYS.root);
  if (!root) return { issues: c.issues };
  const version = root.version === undefined ? 1 : root.version;
  if (version !== 1) c.add(['version'], `unsupported version ${JSON.stringify(version)}; this LRP Lens reads version 1`);
  const models: ModelEntry[] = [];
  const abs = resolve(file);
  if (!Array.isArray(root.models)) c.add(root.models === undefined ? [] : ['models'], "'models' must be an array of model entries");
  else {
    root.models.forEach((m, i) => {
      const e = checkEntry(c, m, i, dirname(abs));
      if (e) models.push(e);
    });
    const seen = new Map<string, number>();
    for (const m of models) {
      if (seen.has(m.name)) c.add(['models', m.index, 'name'], `two entries are named '${m.name}' (also models[${seen.get(m.name)}]); --model NAME needs unique names`);
      seen.set(m.name, m.index);
    }
  }
  const warnings = c.issues.filter((i) => i.severity === 'warning');
  return { project: { file: abs, dir: dirname(abs), text, version: 1, models, locs: parsed.locs, warnings }, issues: c.issues };
}

/** Read and check lrp-lens.json; throws ProjectError (code of the first error) when it has errors. */
export async function readProject(path: string): Promise<LensProject> {
  // A regular file within the size budget, checked with fstat before reading (regular-file.ts).
  const text = new TextDecoder('utf-8').decode(await readRegular(path, 'projectBytes'));
  const { project, issues } = parseProject(text, path);
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length || !project) throw new ProjectError(errors.length ? errors : issues, path);
  return project;
}

/** A path from the project file, made absolute. */
export function projectPath(project: LensProject, p: string): string {
  return resolve(project.dir, p);
}

/** The entry for `--model NAME`: by name, else the entry whose model path/glob matches NAME as a path. */
export function findEntry(project: LensProject, nameOrPath: string): ModelEntry {
  const byName = project.models.find((m) => m.name === nameOrPath);
  if (byName) return byName;
  const abs = resolve(nameOrPath).replace(/\\/g, '/');
  const byPath = project.models.find((m) => compilePathGlob(projectPath(project, m.model).replace(/\\/g, '/')).test(abs));
  if (byPath) return byPath;
  const c = closest(nameOrPath, project.models.map((m) => m.name));
  throw new LensError('CONFIG_ERROR', `no model '${nameOrPath}' in ${project.file}.${c ? ` Did you mean '${c}'?` : ` Models: ${project.models.map((m) => m.name).join(', ') || 'none'}.`}`, { file: project.file });
}
