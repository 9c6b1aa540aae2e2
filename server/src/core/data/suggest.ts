/**
 * Suggested data choices for a file and, when known, the model it feeds: the variable, the sample axis,
 * standardization, mask and fill, and how the field becomes the model's input (a grid, the valid cells
 * flattened, or a sequence for recurrent models). Each choice comes with a note saying why, from the
 * file's CF metadata and the model's input shape alone (no data values are read).
 */
import type { AxisInfo, DataInfo, VariableInfo } from './describe.js';
import { fileLabel } from './describe.js';
import type { DraftEntry } from './draft.js';

/** The model's first input as the loader gives it. */
export interface ModelInputInfo {
  /** Batch first, file layout (graph.inputs[0].fileShape). */
  fileShape: (number | null)[];
  fileLayout?: string;
  /** The model has a recurrent layer (LSTM, GRU, RNN, an echo state loop). */
  recurrent?: boolean;
}

const ANOMALY = /anom/i;
/** Units of a quantity measured on a physical scale (a field with a seasonal cycle), not a ratio or index. */
const NO_UNITS = /^\s*(1|-|none|dimensionless|unitless|%|percent|fraction|count|index)?\s*$/i;

/** Whether consecutive dates are consecutive months. */
function monthly(times: string[]): boolean {
  if (times.length < 2) return false;
  const m = (d: string): number => Number(d.slice(0, d.indexOf('-', 1))) * 12 + Number(d.slice(d.indexOf('-', 1) + 1, d.indexOf('-', 1) + 3));
  for (let i = 1; i < times.length; i++) if (m(times[i]) - m(times[i - 1]) !== 1) return false;
  return true;
}

/** The first whole 30 years of monthly dates, or all whole years if fewer: 'YYYY-01:YYYY-12' (undefined without a whole year). */
export function basePeriod(times: string[]): { period: string; years: number } | undefined {
  const i0 = times.findIndex((d) => d.slice(5, 7) === '01');
  if (i0 < 0) return undefined;
  const years = Math.min(30, Math.floor((times.length - i0) / 12));
  if (years < 1) return undefined;
  const y0 = Number(times[i0].slice(0, 4));
  const y = (n: number): string => String(n).padStart(4, '0');
  return { period: `${y(y0)}-01:${y(y0 + years - 1)}-12`, years };
}

export function suggestEntry(info: DataInfo, model?: ModelInputInfo): { entry?: DraftEntry; notes: string[] } {
  const notes: string[] = [];
  if (info.variables.length === 0) return { notes: [`${fileLabel(info.file)} has no data variable`] };
  // A .npy of ready model inputs needs no choices.
  if (info.format === 'npy') return { notes: [`${fileLabel(info.file)} is an array of model inputs: it is used as it is`] };
  const gridded = info.variables.filter((v) => v.roles.includes('lat') && v.roles.includes('lon'));
  const v: VariableInfo = gridded[0] ?? info.variables[0];
  notes.push(
    gridded.length === 1 ? `variable: ${v.name}, the only data variable on a lat/lon grid`
    : gridded.length > 1 ? `variable: ${v.name}, the largest of the ${gridded.length} data variables on a lat/lon grid (${gridded.map((x) => x.name).join(', ')})`
    : info.variables.length === 1 ? `variable: ${v.name}, the only data variable` : `variable: ${v.name}, the largest data variable`,
  );
  const axis = (role: string): AxisInfo | undefined => {
    const i = v.roles.indexOf(role as never);
    return i < 0 ? undefined : info.axes.find((a) => a.name === v.dims[i]);
  };
  const time = axis('time');
  const lat = axis('lat');
  const lon = axis('lon');
  const level = axis('level');
  const entry: DraftEntry = { data: { file: info.file, variable: v.name } };
  const input: Record<string, unknown> = {};
  if (time) {
    input.sampleDim = time.name;
    notes.push(`samples: one per step of ${time.name}, the time axis${time.units ? ` (units '${time.units}')` : ''}${time.times ? `, ${time.times[0]} to ${time.times[time.times.length - 1]}` : ''}`);
  }
  if (level && level.size > 1) {
    entry.data.select = { [level.name]: 0 };
    notes.push(`level: the first of ${level.size} levels of ${level.name}${level.first !== undefined ? ` (${level.first}${level.units ? ' ' + level.units : ''})` : ''}; pick another in "select"`);
  }
  // Anomalies: a physical field (units) with a monthly time axis, unless it already is an anomaly.
  const already = [v.name, v.longName, v.standardName, fileLabel(info.file)].some((s) => s && ANOMALY.test(s));
  if (time?.times && monthly(time.times) && v.units && !NO_UNITS.test(v.units)) {
    if (already) notes.push(`standardize: none, the ${ANOMALY.test(fileLabel(info.file)) && ![v.name, v.longName, v.standardName].some((s) => s && ANOMALY.test(s)) ? 'file name' : 'variable'} says these are anomalies already`);
    else {
      const base = basePeriod(time.times);
      input.standardize = base ? { anomaly: 'monthly', period: base.period } : { anomaly: 'monthly' };
      notes.push(base
        ? `standardize: monthly anomalies (${v.units} has a seasonal cycle) against ${base.period}, the first ${base.years === 30 ? '30 whole years' : `${base.years} whole year${base.years > 1 ? 's' : ''} (all the file has)`}`
        : `standardize: monthly anomalies against the mean of each calendar month over all samples (the file has no whole year)`);
    }
  }
  if (lat && lon) {
    entry.mask = 'missing';
    notes.push(`mask: "missing": cells without a value in some sample (land, sea ice) are masked`);
  }
  input.fillValue = 0;
  notes.push('fillValue: masked and missing cells become 0 in the model input');
  if (model && lat && lon) fitModel(model, lat, lon, entry, input, notes);
  entry.input = input;
  if (lat || lon || time) entry.coords = { ...(lat ? { lat: lat.name } : {}), ...(lon ? { lon: lon.name } : {}), ...(time ? { time: time.name } : {}) };
  return { entry, notes };
}

/** How the grid becomes the model's input: flattened, a sequence or a grid (layout, wrap, coarsening). */
function fitModel(model: ModelInputInfo, lat: AxisInfo, lon: AxisInfo, entry: DraftEntry, input: Record<string, unknown>, notes: string[]): void {
  const per = model.fileShape.slice(1);
  const nlat = lat.size;
  const nlon = lon.size;
  if (per.length === 1 && typeof per[0] === 'number') {
    const f = per[0];
    if (f === nlat * nlon) {
      input.flatten = true;
      notes.push(`flatten: the model takes ${f} values per sample, every cell of the ${nlat}x${nlon} grid`);
    } else {
      input.flatten = 'valid';
      entry.mask = 'missing';
      notes.push(`flatten: "valid": the model takes ${f} values per sample, ${f < nlat * nlon ? 'fewer than' : 'not'} the ${nlat * nlon} cells of the ${nlat}x${nlon} grid: the valid (ocean) cells only`);
    }
    return;
  }
  const seqLayout = model.fileLayout !== undefined && /^N[TW]C$/.test(model.fileLayout);
  if (per.length === 2 && (model.recurrent || seqLayout)) {
    const [T, F] = per;
    const time = T === nlat && F === nlon ? lat : lon;
    input.sequence = { time: time.name };
    notes.push(`sequence: the model reads (time, features) = (${T ?? 'any'}, ${F ?? 'any'}): one step per ${time === lon ? 'longitude' : 'latitude'} (${time.size}), the ${time === lon ? 'latitudes' : 'longitudes'} as features`);
    return;
  }
  if (per.length < 2) return;
  const channelsFirst = model.fileLayout ? /^NC/.test(model.fileLayout) : false;
  const spatial = per.length === 3 ? (channelsFirst ? per.slice(1) : per.slice(0, 2)) : per;
  const [H, W] = spatial;
  input.layout = per.length === 3 ? (channelsFirst ? ['channel', lat.name, lon.name] : [lat.name, lon.name, 'channel']) : [lat.name, lon.name];
  notes.push(`layout: ${(input.layout as string[]).join(' x ')}, as the model's input (${model.fileLayout ?? 'channels last'})`);
  if (typeof H !== 'number' || typeof W !== 'number') return;
  // A coarsening factor that gives the model's grid (its width possibly with a periodic wrap).
  const widthFits = (w: number): boolean => W === w || (W > w && (W - w) % 2 === 0 && (W - w) / 2 <= w / 8);
  let k = 1;
  for (let c = 2; c <= 16; c++) {
    if (Math.floor(nlat / c) === H && widthFits(Math.floor(nlon / c))) {
      k = c;
      break;
    }
  }
  if (k > 1) {
    input.coarsen = k;
    notes.push(`coarsen: ${k}: the model expects ${H}x${W}, the variable is ${nlat}x${nlon} (lat x lon); block means of ${k}x${k} cells give ${Math.floor(nlat / k)}x${Math.floor(nlon / k)}`);
  }
  const w = Math.floor(nlon / k);
  // A periodic wrap of a few cells (an eighth of the longitudes at most): more is no border padding but another grid.
  if (Math.floor(nlat / k) === H && W > w && (W - w) % 2 === 0 && (W - w) / 2 <= w / 8) {
    input.wrapLon = (W - w) / 2;
    notes.push(`wrapLon: ${(W - w) / 2}: the model's width ${W} is the ${w} longitudes and ${(W - w) / 2} on each side (a periodic longitude)`);
  }
}
