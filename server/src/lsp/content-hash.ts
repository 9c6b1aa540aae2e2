/**
 * Cache keys: sha256 of a model file's bytes and, for a TF.js model.json, of the weight shards its
 * manifest names (a changed shard is a changed model). Read with streams so a large file does not
 * block the protocol thread.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

function feed(hash: Hash, file: string): Promise<void> {
  return new Promise((ok, fail) => {
    createReadStream(file)
      .on('data', (d) => hash.update(d))
      .on('end', () => ok())
      .on('error', fail);
  });
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

export async function hashModelFile(file: string, isJson: boolean): Promise<HashedFile> {
  const hash = createHash('sha256');
  if (!isJson) {
    await feed(hash, file);
    return { hash: hash.digest('hex') };
  }
  const text = await readFile(file, 'utf8');
  hash.update(text);
  for (const shard of shardPaths(text, file)) {
    hash.update('\0' + shard + '\0');
    await feed(hash, shard).catch(() => hash.update('missing'));
  }
  return { hash: hash.digest('hex'), text };
}
