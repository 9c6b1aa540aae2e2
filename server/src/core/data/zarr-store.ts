/**
 * A Zarr directory store on the local disk, as zarrita's `AsyncReadable`. A store is untrusted input, so
 * every key is checked before a byte is read: keys are plain relative paths (no `..`, no empty or dot
 * segments), the file a key names must resolve (symlinks followed) inside the store's own folder, must be
 * a regular file (regular-file.ts), and its size is bounded before it is read: metadata documents by
 * METADATA_BYTES, a chunk by what its array declares (set by the reader per array, see `limitChunks`).
 */
import { realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { LensError } from '../errors.js';
import { overBudget } from './budget.js';
import { openRegular, readAt } from './regular-file.js';

/** Largest metadata document (.zarray, .zattrs, .zgroup, .zmetadata, zarr.json): real ones are KBs. */
export const METADATA_BYTES = 16 * 1024 * 1024;

const METADATA_NAMES = new Set(['.zarray', '.zattrs', '.zgroup', '.zmetadata', 'zarr.json']);

export function isMetadataKey(key: string): boolean {
  return METADATA_NAMES.has(key.slice(key.lastIndexOf('/') + 1));
}

export class ZarrDirectoryStore {
  /** Bytes of chunk files read so far (lazy-reading evidence). */
  chunkBytes = 0;
  /** Chunk files read so far. */
  chunkReads = 0;
  /** Array path ('/name', no trailing slash) -> most bytes one of its chunk files may hold. */
  private chunkLimits = new Map<string, number>();

  private constructor(readonly root: string, private readonly realRoot: string) {}

  static async open(root: string): Promise<ZarrDirectoryStore> {
    let real: string;
    try {
      real = await realpath(root);
    } catch {
      throw new LensError('FILE_NOT_FOUND', `no such Zarr store: ${root}`, { file: root });
    }
    return new ZarrDirectoryStore(root, real);
  }

  /** Allow chunk files under `arrayPath` of up to `bytes` bytes (unset arrays have no readable chunks). */
  limitChunks(arrayPath: string, bytes: number): void {
    this.chunkLimits.set(arrayPath.replace(/\/+$/, '') || '/', bytes);
  }

  private limitFor(key: string): { limit: number; what: string } {
    if (isMetadataKey(key)) return { limit: METADATA_BYTES, what: 'Zarr metadata document' };
    let best: string | undefined;
    for (const p of this.chunkLimits.keys()) {
      const prefix = p === '/' ? '/' : `${p}/`;
      if (key.startsWith(prefix) && (!best || p.length > best.length)) best = p;
    }
    if (best === undefined) throw new LensError('CORRUPT', `Zarr key ${key} belongs to no array of the store`, { file: this.root });
    return { limit: this.chunkLimits.get(best)!, what: `Zarr chunk ${key.slice(1)} (its array declares at most this many bytes a chunk)` };
  }

  /** The file a key names, or a refusal when the key is not a plain path inside the store. */
  private pathOf(key: string): string {
    const rel = key.replace(/^\//, '');
    const parts = rel.split('/');
    if (!rel || rel.includes('\\') || rel.includes('\0') || parts.some((p) => p === '' || p === '.' || p === '..')) {
      throw new LensError('CORRUPT', `Zarr key '${key}' is not a plain path inside the store`, { file: this.root });
    }
    return join(this.realRoot, ...parts);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const path = this.pathOf(key);
    let real: string;
    try {
      real = await realpath(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // Absent key: a missing chunk reads as the fill value; missing metadata is zarrita's to report.
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw new LensError('DATA_ERROR', `cannot read Zarr key ${key}: ${(e as Error).message}`, { file: this.root });
    }
    if (real !== this.realRoot && !real.startsWith(this.realRoot + sep)) {
      throw new LensError('CORRUPT', `Zarr key ${key} is a link leading outside the store (to ${real})`, { file: this.root });
    }
    const { limit, what } = this.limitFor(key);
    const { fh, size } = await openRegular(real).catch((e: unknown) => {
      throw e instanceof LensError ? new LensError(e.code, `Zarr key ${key}: ${e.message}`, { file: this.root }) : e;
    });
    try {
      if (size > limit) throw overBudget('zarr', limit, size, `size of ${what} in bytes`, this.root);
      const bytes = await readAt(fh, 0, size);
      if (!isMetadataKey(key)) {
        this.chunkBytes += bytes.length;
        this.chunkReads++;
      }
      return bytes;
    } finally {
      await fh.close();
    }
  }
}
