/** Paths that tests use: the repository root and the read-only shared/ folder beside it. */
import { existsSync, readFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).name === 'lrp-lens') return dir;
      } catch {
        /* keep walking */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`no lrp-lens package.json above ${start}`);
    dir = up;
  }
}

export const REPO = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
/** `../shared` next to the clone (read-only); override with LRP_LENS_SHARED. */
export const SHARED = process.env.LRP_LENS_SHARED ?? resolve(REPO, '..', 'shared');
export const REF = join(SHARED, 'lrp-reference');
export const REAL = join(SHARED, 'real-models');
export const BENCH = join(SHARED, 'bench');
export const GEODATA = join(SHARED, 'geodata');
export const SAMPLES = join(REPO, 'samples');

/** A scratch folder under out/ for files a test writes. */
export function scratchDir(name: string): string {
  const dir = join(REPO, 'out', 'test-tmp', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}
