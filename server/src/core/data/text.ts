/**
 * Text inputs: CSV with a header row (one variable per column, dim `row`), and NOAA CPC/PSL ENSO
 * index files (one variable per column, dim `time` with a `time` coordinate in months):
 *  - CPC monthly table: `YR MON NINO1+2 ANOM NINO3 ANOM ...` (an ANOM column is named after the
 *    column before it: `NINO3.4_ANOM`);
 *  - CPC ONI: `SEAS YR TOTAL ANOM`, season DJF..NDJ dated at its centre month;
 *  - PSL year-by-month table: `YEAR v1 ... v12`, -99.99 missing (variable `anom`).
 */
import { LensError } from '../errors.js';
import { checkBudget } from './budget.js';
import { readRegular } from './regular-file.js';
import { sliceArray } from './hyperslab.js';
import type { NdArray } from '../array.js';
import type { AttrValue, DataSource, Hyperslab, VarInfo } from './source.js';

async function readText(file: string): Promise<string> {
  return new TextDecoder('utf-8').decode(await readRegular(file, 'textBytes'));
}

interface Column {
  name: string;
  values: Float64Array;
  attrs: Record<string, AttrValue>;
}

function memorySource(file: string, format: DataSource['format'], dim: string, cols: Column[], text: Record<string, string[]> = {}): DataSource {
  const n = cols[0]?.values.length ?? Object.values(text)[0]?.length ?? 0;
  const variables: VarInfo[] = cols.map((c) => ({ name: c.name, dims: [dim], shape: [n], dtype: 'f8', attrs: c.attrs }));
  for (const name of Object.keys(text)) variables.push({ name, dims: [dim], shape: [n], dtype: 'str', attrs: {} });
  const byName = new Map(cols.map((c) => [c.name, c]));
  return {
    path: file,
    format,
    dims: { [dim]: n },
    variables,
    globalAttrs: {},
    bytesRead: () => -1,
    close: async () => undefined,
    async read(name: string, slab: Hyperslab): Promise<NdArray> {
      const c = byName.get(name);
      if (!c) throw new LensError('UNKNOWN_VARIABLE', `no numeric column ${name}`, { file });
      return { shape: [slab[0][1] - slab[0][0]], data: sliceArray(c.values, [n], slab), dtype: 'f8' };
    },
  };
}

/** Split one CSV line, honouring double quotes. */
function splitCsv(line: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (q) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') q = false;
      else cur += ch;
    } else if (ch === '"') q = true;
    else if (ch === sep) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

const MISSING = new Set(['', 'na', 'nan', 'null', 'none', '-']);

function isMissing(s: string): boolean {
  return s.length <= 4 && MISSING.has(s.toLowerCase());
}

/**
 * CSV in two linear passes over the lines, never a table of strings: the first fills one Float64Array
 * per column and notes the columns that hold text; a second pass (only if there are such) collects
 * those columns' strings. Columns and cells are budgeted before any column is allocated.
 */
export async function openCsv(file: string): Promise<DataSource> {
  const text = await readText(file);
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0 && !l.startsWith('#'));
  if (lines.length === 0) throw new LensError('DATA_ERROR', 'empty CSV file', { file });
  const first = lines[0];
  const count = (sep: string): number => {
    let n = 0;
    for (let i = 0; i < first.length; i++) if (first[i] === sep) n++;
    return n;
  };
  const sep = [',', ';', '\t'].sort((a, b) => count(b) - count(a))[0];
  const header = splitCsv(first, sep);
  checkBudget('variables', header.length, `columns of ${file}`, file);
  checkBudget('csvCells', header.length * (lines.length - 1), `cells (columns x rows) of ${file}`, file);
  if (header.some((h) => h !== '' && !Number.isNaN(Number(h)))) {
    throw new LensError('DATA_ERROR', `CSV needs a header row of column names; the first row is '${first.slice(0, 60)}'`, { file });
  }
  const names = header.map((h, j) => h || `column_${j}`);
  const seen = new Set<string>();
  for (const nm of names) {
    if (seen.has(nm)) throw new LensError('CORRUPT', `CSV header names column '${nm.slice(0, 60)}' twice`, { file });
    seen.add(nm);
  }
  const rows = lines.length - 1;
  const values = names.map(() => new Float64Array(rows));
  const isText = new Uint8Array(names.length);
  for (let i = 0; i < rows; i++) {
    const r = splitCsv(lines[i + 1], sep);
    if (r.length !== header.length) throw new LensError('CORRUPT', `CSV row ${i + 2} has ${r.length} fields, the header has ${header.length}`, { file });
    for (let j = 0; j < r.length; j++) {
      const x = isMissing(r[j]) ? NaN : Number(r[j]);
      if (Number.isNaN(x) && !isMissing(r[j])) isText[j] = 1;
      values[j][i] = x;
    }
  }
  const cols: Column[] = [];
  const strs: Record<string, string[]> = {};
  names.forEach((name, j) => {
    if (!isText[j]) cols.push({ name, values: values[j], attrs: {} });
    else strs[name] = new Array<string>(rows);
  });
  if (Object.keys(strs).length > 0) {
    const textCols = names.map((n, j) => (isText[j] ? strs[n] : undefined));
    for (let i = 0; i < rows; i++) {
      const r = splitCsv(lines[i + 1], sep);
      for (let j = 0; j < r.length; j++) {
        const t = textCols[j];
        if (t) t[i] = r[j];
      }
    }
  }
  return memorySource(file, 'csv', 'row', cols, strs);
}

const SEASONS = ['DJF', 'JFM', 'FMA', 'MAM', 'AMJ', 'MJJ', 'JJA', 'JAS', 'ASO', 'SON', 'OND', 'NDJ'];

/** Whether the text looks like one of the index formats (checked on the first lines). */
export function looksLikeIndex(text: string): boolean {
  const lines = text.split(/\r?\n/).slice(0, 5).map((l) => l.trim());
  return lines.some((l) => /^(YR|SEAS|YEAR)\s/i.test(l)) || lines.some((l) => /^\d{4}(\s+-?\d+\.\d+){12}$/.test(l));
}

export async function openIndexText(file: string): Promise<DataSource> {
  const text = await readText(file);
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  const hi = lines.findIndex((l) => /^(YR|SEAS)\s/i.test(l));
  const months: number[] = [];
  const cols: Column[] = [];
  const timeAttrs = { units: 'months since 1800-01-01', calendar: 'standard', standard_name: 'time', axis: 'T' };
  if (hi >= 0) {
    const header = lines[hi].split(/\s+/);
    checkBudget('variables', header.length, `columns of ${file}`, file);
    checkBudget('csvCells', header.length * (lines.length - hi - 1), `cells (columns x rows) of ${file}`, file);
    const seasonal = header[0].toUpperCase() === 'SEAS';
    const valueNames: string[] = [];
    header.slice(2).forEach((h, i, a) => {
      const prev = i > 0 ? a[i - 1] : '';
      valueNames.push(h.toUpperCase() === 'ANOM' && prev && prev.toUpperCase() !== 'ANOM' && prev.toUpperCase() !== 'TOTAL' ? `${prev}_ANOM` : h);
    });
    const values: number[][] = valueNames.map(() => []);
    for (let k = hi + 1; k < lines.length; k++) {
      const t = lines[k].split(/\s+/);
      if (t.length !== header.length) throw new LensError('CORRUPT', `index line ${k + 1} has ${t.length} fields, the header has ${header.length}`, { file });
      const year = Number(t[seasonal ? 1 : 0]);
      const month = seasonal ? SEASONS.indexOf(t[0].toUpperCase()) + 1 : Number(t[1]);
      if (!Number.isInteger(year) || !(month >= 1 && month <= 12)) throw new LensError('CORRUPT', `index line ${k + 1}: cannot read year/month from '${lines[k]}'`, { file });
      months.push((year - 1800) * 12 + (month - 1));
      t.slice(2).forEach((s, j) => values[j].push(Number(s)));
    }
    valueNames.forEach((n, j) => cols.push({ name: n, values: Float64Array.from(values[j]), attrs: {} }));
  } else {
    const vals: number[] = [];
    for (const l of lines) {
      const t = l.split(/\s+/).map(Number);
      if (t.length === 2 && t.every(Number.isInteger)) continue; // PSL's "first last" year line
      if (t.length !== 13 || t.some(Number.isNaN)) {
        if (months.length === 0) continue; // a title line
        break; // PSL footer
      }
      for (let m = 0; m < 12; m++) {
        months.push((t[0] - 1800) * 12 + m);
        vals.push(t[m + 1]);
      }
    }
    if (months.length === 0) throw new LensError('CORRUPT', 'no index rows found (expected YEAR and 12 monthly values per line)', { file });
    cols.push({ name: 'anom', values: Float64Array.from(vals), attrs: { missing_value: -99.99 } });
  }
  return memorySource(file, 'cpc-index', 'time', [{ name: 'time', values: Float64Array.from(months), attrs: timeAttrs }, ...cols]);
}
