/**
 * Finds the model files in workspace folders: include/exclude globs on workspace-relative paths,
 * excluded directories not entered, symlinks not followed (no cycles, nothing outside the folder), files
 * over the size limit left out, a TensorFlow SavedModel folder taken as one model. The scan and the
 * file watcher (watch.ts) decide what to enter with the same function, `walkKind`.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { lstat, opendir } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { GlobSet } from '../core/glob.js';
import { SAVED_MODEL_FILE } from '../core/model/model-file-names.js';

export { SAVED_MODEL_FILE };

/** Directory entries one scan visits at most (a guard against huge trees; the rest is left out and logged). */
export const SCAN_MAX_ENTRIES = 200_000;

export interface DiscoveryOptions {
  include: string[];
  exclude: string[];
  maxFileBytes: number;
  /** Stop after this many files (a guard against huge trees). */
  maxFiles?: number;
  /** Stop after visiting this many directory entries (default SCAN_MAX_ENTRIES). */
  maxEntries?: number;
}

export interface Discovered {
  /** Model files, and SavedModel folders. */
  files: string[];
  /** Matching files left out because of their size. */
  tooLarge: { file: string; bytes: number }[];
  /** The scan stopped at maxEntries or maxFiles. */
  truncated?: boolean;
}

export function toRel(root: string, file: string): string {
  return relative(root, file).split(sep).join('/');
}

/**
 * The one rule for what a scan or a watcher enters and what it looks at, from an lstat (or a Dirent,
 * which is one): real folders are entered, regular files considered, everything else (symlinks, FIFOs,
 * devices, sockets) skipped.
 */
export function walkKind(st: { isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean }): 'dir' | 'file' | 'skip' {
  if (st.isSymbolicLink()) return 'skip';
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  return 'skip';
}

export async function discoverModels(roots: string[], opts: DiscoveryOptions): Promise<Discovered> {
  const globs = new GlobSet(opts.include, opts.exclude);
  const out: Discovered = { files: [], tooLarge: [] };
  const max = opts.maxFiles ?? 10_000;
  const maxEntries = opts.maxEntries ?? SCAN_MAX_ENTRIES;
  let visited = 0;
  const consider = async (file: string, bytes?: number): Promise<void> => {
    const size = bytes ?? (await lstat(file).catch(() => undefined))?.size;
    if (size === undefined) return;
    if (size > opts.maxFileBytes) out.tooLarge.push({ file, bytes: size });
    else out.files.push(file);
  };
  for (const root of roots) {
    const stack = [root];
    while (stack.length > 0) {
      if (out.files.length >= max || visited >= maxEntries) {
        out.truncated = true;
        break;
      }
      const dir = stack.pop()!;
      // A SavedModel folder is one model: its variables/, assets/ and other .pb files are not models.
      const savedPb = dir === root ? undefined : savedModelPb(dir);
      if (savedPb && globs.matches(toRel(root, join(dir, SAVED_MODEL_FILE)))) {
        await consider(dir, savedPb.size);
        continue;
      }
      // Streamed (opendir), not read whole: a folder of a million entries costs no more than the budget.
      let handle;
      try {
        handle = await opendir(dir, { bufferSize: 64 });
      } catch {
        continue; // unreadable folder: nothing to analyze there
      }
      try {
        for await (const e of handle) {
          if (++visited > maxEntries) {
            out.truncated = true;
            break;
          }
          const p = join(dir, e.name);
          const rel = toRel(root, p);
          const kind = walkKind(e);
          if (kind === 'dir') {
            if (!globs.excludesDir(rel)) stack.push(p);
          } else if (kind === 'file' && globs.matches(rel)) await consider(p);
        }
      } catch {
        /* the folder went away while being read: what was seen stands */
      }
    }
  }
  out.files.sort();
  return out;
}

/** The SavedModel folder a path is in or is (its saved_model.pb, variables/, assets/), if any. */
export function savedModelOf(file: string, root: string): string | undefined {
  for (let dir = basename(file) === SAVED_MODEL_FILE ? dirname(file) : file, i = 0; i < 4; i++, dir = dirname(dir)) {
    if (dir === root || !dir.startsWith(root + sep)) return undefined;
    if (savedModelPb(dir)) return dir;
  }
  return undefined;
}

/**
 * The one test of "this folder is a SavedModel": it holds a regular saved_model.pb (not a symlink, as
 * everywhere in the scan). Its lstat (the scan wants the size), or undefined.
 */
export function savedModelPb(dir: string): { size: number } | undefined {
  try {
    const st = lstatSync(join(dir, SAVED_MODEL_FILE));
    return walkKind(st) === 'file' ? st : undefined;
  } catch {
    return undefined;
  }
}

/** Whether an existing path is reached through a symlink below `root` (the scan never follows one). */
function throughSymlink(root: string, file: string, rel: string): boolean {
  try {
    return realpathSync(file) !== join(realpathSync(root), rel);
  } catch {
    return false; // gone: judged by its name
  }
}

/**
 * The model a changed path (from a watcher event) belongs to under these globs (built once per settings
 * change by the caller), or undefined: the file itself, or the SavedModel folder holding it. A symlink
 * or other non-regular file, or a path through a symlinked folder, is no model, as in the scan.
 */
export function modelFor(roots: string[], file: string, globs: GlobSet): string | undefined {
  for (const root of roots) {
    const rel = toRel(root, file);
    if (rel.startsWith('..') || rel === '') continue;
    if (throughSymlink(root, file, rel)) return undefined;
    const saved = savedModelOf(file, root);
    if (saved) return globs.matches(toRel(root, join(saved, SAVED_MODEL_FILE))) ? saved : undefined;
    if (!globs.matches(rel)) continue;
    let st;
    try {
      st = lstatSync(file);
    } catch {
      return file; // gone: the caller forgets it
    }
    return walkKind(st) === 'file' ? file : undefined;
  }
  return undefined;
}
