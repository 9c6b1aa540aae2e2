/**
 * The report's output folder is shared with whatever the user keeps there: the report removes and
 * replaces only the files it wrote itself. They are listed in a manifest (.lrp-lens-report.json) that
 * the next run reads; any other file is left alone, and a name the report needs that is taken by a file
 * it did not write stops the run instead of overwriting it. New files are created exclusively (O_EXCL),
 * so a symlink planted under a report file's name is never followed.
 */
import { lstat, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { LensError } from '../errors.js';

export const MANIFEST = '.lrp-lens-report.json';
/** A manifest is a short list of names; anything larger is not ours. */
const MANIFEST_MAX_BYTES = 1024 * 1024;

/** A name the report may have written: a plain file name in the folder, no path, no dot-file. */
function isOwnName(n: unknown): n is string {
  return typeof n === 'string' && n.length > 0 && n.length <= 255 && n === basename(n) && !n.includes('\\') && !n.startsWith('.') && /\.(png|html)$/.test(n);
}

/** Names a previous run wrote: from the manifest, or from a report written before manifests existed. */
async function previousFiles(dir: string): Promise<string[]> {
  const m = join(dir, MANIFEST);
  const st = await lstat(m).catch(() => undefined);
  if (st?.isFile() && st.size <= MANIFEST_MAX_BYTES) {
    try {
      const parsed = JSON.parse(await readFile(m, 'utf8')) as { files?: unknown };
      return Array.isArray(parsed.files) ? parsed.files.filter(isOwnName) : [];
    } catch {
      return [];
    }
  }
  // No manifest: an index.html that lrp-lens report made names its own PNGs.
  const index = join(dir, 'index.html');
  const ist = await lstat(index).catch(() => undefined);
  if (!ist?.isFile() || ist.size > 64 * 1024 * 1024) return [];
  const html = await readFile(index, 'utf8');
  if (!html.includes('Made by <code>lrp-lens report</code>')) return [];
  return ['index.html', ...[...html.matchAll(/<img src="([^"]+)"/g)].map((x) => x[1]).filter(isOwnName)];
}

/** The output folder of one report run. */
export class ReportFolder {
  readonly written: string[] = [];
  private constructor(readonly dir: string) {}

  /** Create or reuse `dir`, removing the files the previous run listed (and nothing else). */
  static async open(dir: string): Promise<ReportFolder> {
    const st = await stat(dir).catch(() => undefined);
    if (st && !st.isDirectory()) throw new LensError('BAD_INPUT', `--out ${dir} is not a folder`, { file: dir });
    await mkdir(dir, { recursive: true });
    for (const n of await previousFiles(dir)) {
      const p = join(dir, n);
      const s = await lstat(p).catch(() => undefined);
      // A file (or a link) of the old report goes; a folder of that name is not ours to remove.
      if (s && (s.isFile() || s.isSymbolicLink())) await rm(p);
    }
    const f = new ReportFolder(dir);
    await f.saveManifest();
    return f;
  }

  /** Write one report file, never over a file the report did not write. */
  async write(name: string, data: string | Uint8Array): Promise<string> {
    if (!isOwnName(name)) throw new LensError('INTERNAL', `report file name ${JSON.stringify(name)} is not a plain .png/.html name`);
    const p = join(this.dir, name);
    // Two models whose names sanitize alike share a file name: the later one replaces this run's file.
    if (this.written.includes(name)) await rm(p, { force: true });
    try {
      await writeFile(p, data, { flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      throw new LensError('BAD_INPUT', `${p} exists and was not written by lrp-lens report: move it away or choose another --out folder`, { file: p });
    }
    if (!this.written.includes(name)) this.written.push(name);
    await this.saveManifest();
    return p;
  }

  private async saveManifest(): Promise<void> {
    const p = join(this.dir, MANIFEST);
    const s = await lstat(p).catch(() => undefined);
    if (s && !s.isFile()) throw new LensError('BAD_INPUT', `${p} is not a regular file: choose another --out folder`, { file: p });
    await rm(p, { force: true });
    await writeFile(p, JSON.stringify({ writer: 'lrp-lens report', files: this.written }) + '\n', { flag: 'wx' });
  }
}
