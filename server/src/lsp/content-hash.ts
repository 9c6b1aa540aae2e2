/**
 * Cache keys: sha256 of a model file's bytes and, for a TF.js model.json, of the weight shards its
 * manifest names (a changed shard is a changed model); for a SavedModel folder, of its .pb files and
 * variables/. Only regular files are read (a shard path or a symlink into /dev/zero or a FIFO must not
 * spin or hang the server: the hash runs before the loader refuses such paths), at most
 * HASH_MAX_BYTES in all; past the budget a file counts by its size and modification time.
 */
import { createHash, type Hash } from 'node:crypto';
import { lstat, readdir } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { LensError } from '../core/errors.js';
import { openRegular } from '../core/data/regular-file.js';
import { SAVED_MODEL_FILE, savedModelPb, walkKind } from './discovery.js';

/** Bytes one model's hash reads at most (file, shards, variables together). */
export const HASH_MAX_BYTES = 1024 * 1024 * 1024;
/** Largest model.json read as text for the hash (and for hovers). */
export const HASH_MAX_JSON_BYTES = 64 * 1024 * 1024;
const CHUNK = 1 << 20;

interface Budget {
  left: number;
}

/**
 * Feeds a regular file's bytes (or, past the budget, its size and mtime) into the hash; returns the
 * text when `asText`.
 */
async function feed(hash: Hash, file: string, budget: Budget, asText = false): Promise<string | undefined> {
  // The data readers' one way to open a file: non-blocking, then fstat says it is a regular file.
  const { fh } = await openRegular(file);
  try {
    const st = await fh.stat();
    if (st.size > budget.left || (asText && st.size > HASH_MAX_JSON_BYTES)) {
      if (asText) throw new LensError('FILE_TOO_LARGE', `${file} is ${st.size} bytes, over the ${HASH_MAX_JSON_BYTES}-byte limit of a JSON model`, { file });
      hash.update(`size:${st.size}:mtime:${st.mtimeMs}`);
      return undefined;
    }
    budget.left -= st.size;
    const parts: Buffer[] = [];
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, st.size)));
    // Read what fstat said and no more (a file growing meanwhile is hashed again on its next change).
    for (let pos = 0; pos < st.size; ) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, st.size - pos), pos);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      if (asText) parts.push(Buffer.from(buf.subarray(0, bytesRead)));
      pos += bytesRead;
    }
    return asText ? Buffer.concat(parts).toString('utf8') : undefined;
  } finally {
    await fh.close();
  }
}

/** Shard paths named in a TF.js weightsManifest (relative to the model.json), or []. */
export function shardPaths(jsonText: string, file: string): string[] {
  try {
    const v = JSON.parse(jsonText) as { weightsManifest?: { paths?: unknown }[] };
    if (!Array.isArray(v.weightsManifest)) return [];
    const out: string[] = [];
    for (const g of v.weightsManifest) {
      if (!Array.isArray(g?.paths)) continue;
      for (const p of g.paths) if (typeof p === 'string' && !p.includes('\0')) out.push(resolve(dirname(file), p));
    }
    return out;
  } catch {
    return [];
  }
}

export interface HashedFile {
  hash: string;
  /** The file's text when it is JSON (diagnostic positions and hovers need it). */
  text?: string;
}

/** The files of a SavedModel folder that make the model: its .pb files and variables/ (sorted). */
async function savedModelFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const sub of ['', 'variables']) {
    const entries = await readdir(join(dir, sub), { withFileTypes: true }).catch(() => []);
    for (const e of entries) if (walkKind(e) === 'file' && (sub !== '' || e.name.endsWith('.pb'))) out.push(join(dir, sub, e.name));
  }
  return out.sort();
}

export async function hashModelFile(file: string, isJson: boolean): Promise<HashedFile> {
  const hash = createHash('sha256');
  const budget: Budget = { left: HASH_MAX_BYTES };
  const st = await lstat(file).catch(() => {
    throw new LensError('FILE_NOT_FOUND', `no such file: ${file}`, { file });
  });
  if (walkKind(st) === 'dir') {
    if (!savedModelPb(file)) {
      throw new LensError('FORMAT_UNKNOWN', `${file} is a folder without ${SAVED_MODEL_FILE} (no SavedModel)`, { file });
    }
    for (const f of await savedModelFiles(file)) {
      hash.update('\0' + f.slice(file.length) + '\0');
      await feed(hash, f, budget);
    }
    return { hash: hash.digest('hex') };
  }
  if (!isJson) {
    await feed(hash, file, budget);
    return { hash: hash.digest('hex') };
  }
  const text = (await feed(hash, file, budget, true))!;
  const home = dirname(file) + sep;
  for (const shard of shardPaths(text, file)) {
    hash.update('\0' + shard + '\0');
    // Shards live beside the model.json; one named elsewhere is not read (the loader refuses it too).
    if (!shard.startsWith(home)) hash.update('outside');
    else await feed(hash, shard, budget).catch((e: LensError) => hash.update(`unreadable:${e.code}`));
  }
  return { hash: hash.digest('hex'), text };
}
