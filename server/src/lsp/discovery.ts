/**
 * Finds the model files in workspace folders: include/exclude globs on workspace-relative paths,
 * excluded directories not entered, symlinks not followed (no cycles), files over the size limit left out.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { GlobSet } from './glob.js';

export interface DiscoveryOptions {
  include: string[];
  exclude: string[];
  maxFileBytes: number;
  /** Stop after this many files (a guard against huge trees). */
  maxFiles?: number;
}

export interface Discovered {
  files: string[];
  /** Matching files left out because of their size. */
  tooLarge: { file: string; bytes: number }[];
}

export function toRel(root: string, file: string): string {
  return relative(root, file).split(sep).join('/');
}

export async function discoverModels(roots: string[], opts: DiscoveryOptions): Promise<Discovered> {
  const globs = new GlobSet(opts.include, opts.exclude);
  const out: Discovered = { files: [], tooLarge: [] };
  const max = opts.maxFiles ?? 10_000;
  for (const root of roots) {
    const stack = [root];
    while (stack.length > 0 && out.files.length < max) {
      const dir = stack.pop()!;
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        continue; // unreadable folder: nothing to analyze there
      }
      for (const e of entries) {
        const p = join(dir, e.name);
        const rel = toRel(root, p);
        if (e.isDirectory()) {
          if (!globs.excludesDir(rel)) stack.push(p);
        } else if (e.isFile() && globs.matches(rel)) {
          const st = await stat(p).catch(() => undefined);
          if (!st) continue;
          if (st.size > opts.maxFileBytes) out.tooLarge.push({ file: p, bytes: st.size });
          else out.files.push(p);
        }
      }
    }
  }
  out.files.sort();
  return out;
}

/** Whether one file (from a watcher event) is a model file under these settings. */
export function isModelFile(roots: string[], file: string, include: string[], exclude: string[]): boolean {
  const globs = new GlobSet(include, exclude);
  return roots.some((root) => {
    const rel = toRel(root, file);
    return !rel.startsWith('..') && globs.matches(rel);
  });
}
