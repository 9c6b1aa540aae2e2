/** Paths that tests use: the repository root and the read-only shared/ folder beside it. */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot, sharedDir } from '../core/package-root.js';

function repoRoot(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  const root = packageRoot(start);
  if (!root) throw new Error(`no lrp-lens package.json above ${start}`);
  return root;
}

export const REPO = repoRoot();
/** `../shared` next to the clone (read-only); override with LRP_LENS_SHARED. */
export const SHARED = sharedDir();
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
