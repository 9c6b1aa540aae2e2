/** Test helpers: make NetCDF files from the CDL fixture with Debian's ncgen, and read the CDL's own data. */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, scratchDir } from './paths.js';

export const FIXTURES = join(REPO, 'server', 'src', 'core', 'data', 'fixtures');
export const NCGEN = '/usr/bin/ncgen';
export const HAVE_NCGEN = existsSync(NCGEN) || (() => {
  try {
    execFileSync('ncgen', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** ncgen -k KIND -o DIR/NAME CDL; returns the path. */
export function ncgen(kind: 'nc4' | 'nc7' | 'classic' | '64-bit offset' | 'cdf5', cdl = join(FIXTURES, 'grid.cdl'), name?: string, dir = scratchDir('data-ncgen')): string {
  const out = join(dir, name ?? `grid-${kind.replace(/\W/g, '')}.nc`);
  execFileSync(existsSync(NCGEN) ? NCGEN : 'ncgen', ['-k', kind, '-o', out, cdl]);
  return out;
}

/** The numbers of `name = ... ;` in a CDL data section ('_' = fill -> null). */
export function cdlData(name: string, cdl = join(FIXTURES, 'grid.cdl')): (number | null)[] {
  const text = readFileSync(cdl, 'utf8');
  const data = text.slice(text.indexOf('\ndata:'));
  const m = new RegExp(`\\n\\s*${name.replace(/[.]/g, '\\.')}\\s*=([^;]*);`).exec(data);
  if (!m) throw new Error(`no data for ${name} in ${cdl}`);
  return m[1].split(',').map((s) => s.trim()).map((s) => (s === '_' ? null : Number(s)));
}

/** Pearson correlation. */
export function corr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** A scratch project: the fixture lrp-lens.json, features.csv, grid.nc (ncgen) and empty model files. */
export function fixtureProject(name: string, kind: 'nc4' | 'classic' = 'nc4'): string {
  const dir = scratchDir(name);
  copyFileSync(join(FIXTURES, 'lrp-lens.json'), join(dir, 'lrp-lens.json'));
  copyFileSync(join(FIXTURES, 'features.csv'), join(dir, 'features.csv'));
  ncgen(kind, join(FIXTURES, 'grid.cdl'), 'grid.nc', dir);
  mkdirSync(join(dir, 'models'), { recursive: true });
  for (const m of ['grid.onnx', 'mlp.h5']) writeFileSync(join(dir, 'models', m), '');
  return join(dir, 'lrp-lens.json');
}
