/**
 * Where the installed package lives (the folder whose package.json names lrp-lens, found upward from this
 * module: the sources, out/ and the bundle in dist/ all sit below it), its version, and the shared
 * folder beside a clone that holds the benchmark workload and the reference files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function ownManifest(dir: string): { version?: string } | undefined {
  const pkg = join(dir, 'package.json');
  if (!existsSync(pkg)) return undefined;
  try {
    const m = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string; version?: string };
    return m.name === 'lrp-lens' ? m : undefined;
  } catch {
    return undefined; // keep walking
  }
}

/** The package root above `start` (default: this module's folder); undefined when there is none. */
export function packageRoot(start = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    if (ownManifest(dir)) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** The package's version ('0.0.0' when no manifest is found). */
export function packageVersion(): string {
  const root = packageRoot();
  return (root && ownManifest(root)?.version) || '0.0.0';
}

/** `../shared` next to the clone (read-only reference and benchmark files); LRP_LENS_SHARED overrides it. */
export function sharedDir(): string {
  return process.env.LRP_LENS_SHARED ?? resolve(packageRoot() ?? process.cwd(), '..', 'shared');
}
