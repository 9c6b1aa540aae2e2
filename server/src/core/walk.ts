/**
 * Walking folders named by the user or by a project file (`lrp-lens check PATH`, the model globs of
 * lrp-lens.json in the CLI and the report). A folder or glob may lie in a hostile workspace, so the walk
 * stays inside the folder it was given: a symlink is followed only when
 * its target lies inside that root (a link to / or to /proc/<pid>/cwd is skipped), it never enters the
 * kernel's trees (/proc, /sys, /dev), visits each real folder once (no cycles), skips devices, FIFOs
 * and sockets, and stops with BUDGET_EXCEEDED past a bounded number of entries.
 * The project checks (data/projectcheck.ts) list model globs through it too. The language server's scan
 * (lsp/discovery.ts) has a stricter rule of its own (no symlink followed at all), with glob sets and
 * event-loop yields.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { existsSync } from 'node:fs';
import { LensError } from './errors.js';
import { compilePathGlob } from './glob.js';

export const WALK_LIMITS = {
  /** Directory entries looked at in one walk: a project has hundreds; a home folder has millions. */
  entries: 200_000,
  /** Folder depth below the root. */
  depth: 32,
};

/** Trees of the kernel, not of files: /proc/<pid>/cwd and /proc/<pid>/root lead into other processes' folders. */
const SYSTEM_TREES = ['/proc', '/sys', '/dev'];

export function inSystemTree(real: string): string | undefined {
  return SYSTEM_TREES.find((t) => real === t || real.startsWith(t + '/'));
}

export interface WalkOptions {
  /** Folder names not entered (hidden ones, node_modules, ...). */
  skipDir?: (name: string) => boolean;
  /** Names of files not looked at. */
  skipFile?: (name: string) => boolean;
  maxEntries?: number;
  maxDepth?: number;
}

/** The real path of the root, refusing a system tree. */
export async function walkRoot(root: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(root);
  } catch {
    throw new LensError('FILE_NOT_FOUND', `no such file or folder: ${root}`, { file: root });
  }
  const tree = inSystemTree(real);
  if (tree) throw new LensError('USAGE', `${root} lies in ${tree}, a kernel tree the CLI does not walk`, { file: root });
  return real;
}

/** Regular files under `root` (a folder) for which `accept` says yes, in sorted walk order. */
export async function walkFiles(root: string, accept: (path: string, name: string) => boolean | Promise<boolean>, opts: WalkOptions = {}): Promise<string[]> {
  const maxEntries = opts.maxEntries ?? WALK_LIMITS.entries;
  const maxDepth = opts.maxDepth ?? WALK_LIMITS.depth;
  const rootReal = await walkRoot(root);
  const prefix = rootReal.endsWith(sep) ? rootReal : rootReal + sep;
  const inside = (real: string): boolean => (real === rootReal || real.startsWith(prefix)) && !inSystemTree(real);
  const seen = new Set<string>([rootReal]);
  const seenFiles = new Set<string>();
  const out: string[] = [];
  let entries = 0;
  const walk = async (dir: string, dirReal: string, depth: number): Promise<void> => {
    if (depth > maxDepth) return;
    let list;
    try {
      list = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // an unreadable folder is skipped, as `find` does
    }
    list.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of list) {
      if (++entries > maxEntries) {
        throw new LensError('BUDGET_EXCEEDED', `more than ${maxEntries} entries under ${root}: point the command at the folder that holds the models`, { file: root });
      }
      const p = join(dir, e.name);
      let real = join(dirReal, e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        // Followed only into the root: its target's real path decides.
        try {
          real = await realpath(p);
          const st = await stat(real);
          isDir = st.isDirectory();
          isFile = st.isFile();
        } catch {
          continue; // dangling
        }
        if (!inside(real)) continue;
      }
      if (isDir) {
        if (opts.skipDir?.(e.name) || seen.has(real) || inSystemTree(real)) continue;
        seen.add(real);
        await walk(p, real, depth + 1);
      } else if (isFile && !seenFiles.has(real) && !opts.skipFile?.(e.name) && (await accept(p, e.name))) {
        // A file reached twice (itself and a link to it) is listed once.
        seenFiles.add(real);
        out.push(p);
      }
    }
  };
  await walk(root, rootReal, 0);
  return out;
}

const GLOB = /[*?]/;

/**
 * Files a project's model path or glob names, sorted; a glob is walked from its folder part by the rules
 * above: a glob into /proc (absolute, or climbing there with '..') is refused, not listed. Up to 12
 * folders deep.
 */
export async function expandModelGlob(baseDir: string, pattern: string, accept: (path: string) => boolean = () => true): Promise<string[]> {
  if (!GLOB.test(pattern)) {
    const p = resolve(baseDir, pattern);
    return existsSync(p) && accept(p) ? [p] : [];
  }
  const parts = pattern.split(/[\\/]/);
  // Joined, not spread: an absolute pattern's empty first part must keep its leading '/'.
  const root = resolve(baseDir, parts.slice(0, parts.findIndex((x) => GLOB.test(x))).join('/') || '.');
  if (!existsSync(root)) return [];
  const re = compilePathGlob(resolve(baseDir, pattern).replace(/\\/g, '/'));
  const files = await walkFiles(root, (p) => accept(p) && re.test(p.replace(/\\/g, '/')), {
    skipDir: (name) => name === 'node_modules' || name.startsWith('.'),
    skipFile: (name) => name.startsWith('.'),
    maxDepth: 12,
  });
  return files.sort();
}
