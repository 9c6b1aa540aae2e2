/**
 * File watching for clients that cannot watch for us (no dynamic didChangeWatchedFiles registration,
 * e.g. Neovim 0.7): one non-recursive fs.watch per folder, excluded folders (node_modules, .git) never
 * entered, new folders picked up as they appear. Node's recursive watch on Linux would enter every folder.
 * What is entered is decided by discovery.ts's walkKind, as in the scan: a symlinked folder is never
 * watched (a link loop made while the server runs must not multiply the models).
 */
import { watch, type FSWatcher } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { GlobSet } from '../core/glob.js';
import { toRel, walkKind } from './discovery.js';

export class FolderWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly globs: GlobSet;

  constructor(
    private readonly roots: string[],
    exclude: string[],
    private readonly onChange: (file: string) => void,
    private readonly log: (msg: string) => void,
    private readonly maxFolders = 5000,
  ) {
    this.globs = new GlobSet([], exclude);
  }

  async start(): Promise<void> {
    for (const root of this.roots) await this.add(root, root, false);
  }

  /** `isNew`: the folder appeared while watching, so its files are news too. */
  private async add(root: string, dir: string, isNew: boolean): Promise<void> {
    if (this.watchers.has(dir)) return;
    if (this.watchers.size >= this.maxFolders) {
      this.log(`watching the first ${this.maxFolders} folders only`);
      return;
    }
    try {
      const w = watch(dir, (_event, name) => {
        if (!name) return;
        const p = join(dir, name.toString());
        this.onChange(p);
        // A new folder: watch it (and what is already in it).
        void lstat(p).then(
          (st) => {
            if (walkKind(st) === 'dir' && !this.globs.excludesDir(toRel(root, p))) void this.add(root, p, true);
          },
          () => {
            // Gone: stop watching it and every folder below it.
            for (const [d, w] of this.watchers) {
              if (d === p || d.startsWith(p + sep)) {
                w.close();
                this.watchers.delete(d);
              }
            }
          },
        );
      });
      w.on('error', () => {
        w.close();
        this.watchers.delete(dir);
      });
      this.watchers.set(dir, w);
    } catch (e) {
      this.log(`cannot watch ${dir}: ${(e as Error).message}`);
      return;
    }
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = join(dir, e.name);
      const kind = walkKind(e);
      if (kind === 'dir' && !this.globs.excludesDir(toRel(root, p))) await this.add(root, p, isNew);
      else if (kind === 'file' && isNew) this.onChange(p); // files that arrived with a new folder
    }
  }

  close(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
