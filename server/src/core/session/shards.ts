/**
 * A data set explained in slices on several machines (`lrp-lens explain --shard I/N --out DIR`) and put
 * back together (`lrp-lens merge DIR...`), giving the class means and findings one machine would.
 *
 * - Slicing: contiguous blocks, shard I of N takes samples [floor(I*n/N), floor((I+1)*n/N)). Blocks keep
 *   a time-ordered file's reads contiguous, and the merged maps are the shards' maps one after another.
 * - Each shard writes partial class sums: per class (the sample's label when the data have labels, else
 *   the class explained) the float64 sum of the maps as `explain` writes them and the count. Sums merge
 *   exactly by adding, so merged means equal the single run's to float64 rounding of the additions.
 * - The map checks are statistics over a fixed set of samples (the first CHECK_SAMPLES of the data) and
 *   their controls (runner-up, randomized models, blank prior, twins): correlations and quantiles that do
 *   not merge from partial sums. Shard 0 runs them whole (their cost does not grow with the data set) and
 *   writes the findings; merge takes them from it.
 * - A run's identity (model weights, data, composite and parameters, target) is hashed into every shard;
 *   merge refuses shards of different runs, a missing or repeated shard, or arrays that disagree with
 *   their manifest (shard folders are files from elsewhere: untrusted input).
 *
 * Layout of a shard folder: shard.json (ShardManifest), class-sums.npy (float64 [classes, ...map shape],
 * classes in manifest order), maps.npy (float32 [samples, ...map shape], with --maps only).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LensError } from '../errors.js';
import { readNpy, writeNpy } from '../data/npy.js';
import type { ModelGraph } from '../model/graph.js';
import type { Finding } from '../artifacts/finding.js';

export const SHARD_FORMAT = 'lrp-lens-shard';
export const SHARD_VERSION = 1;
/** Largest shard.json read (a manifest is small; findings are a few KB). */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

export interface ShardSpec {
  index: number;
  count: number;
}

/** `I/N` with 0 <= I < N. */
export function parseShard(spec: string): ShardSpec {
  const m = /^(\d{1,9})\/(\d{1,9})$/.exec(spec.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) throw new LensError('USAGE', `--shard must be I/N with 0 <= I < N (shard I of N), got '${spec}'`);
  return { index, count };
}

/** The contiguous block of n samples that shard I of N explains. */
export function shardRange(n: number, s: ShardSpec): { start: number; stop: number } {
  return { start: Math.floor((s.index * n) / s.count), stop: Math.floor(((s.index + 1) * n) / s.count) };
}

export interface ShardManifest {
  format: typeof SHARD_FORMAT;
  version: number;
  shard: ShardSpec;
  scheme: 'contiguous';
  /** Hash of what makes two shards parts of one run (runIdentity). */
  run: string;
  /** What the run was, for people reading the folder. */
  describe: Record<string, unknown>;
  samples: { total: number; start: number; stop: number };
  /** Shape of one map as written (the data's grid for a flatten "valid" input, else the model's input). */
  mapShape: number[];
  classBy: 'label' | 'target';
  classNames?: string[];
  classes: { class: number; count: number }[];
  maps: boolean;
  /** The findings of the whole run (shard 0), or null with the reason they were not judged. */
  findings: Finding[] | null;
  findingsNote?: string;
}

/** Hash of the run's identity: model weights and structure, the data, and the explain settings. */
export function runIdentity(graph: ModelGraph, x: Float32Array, settings: Record<string, unknown>): string {
  const h = createHash('sha256');
  for (const n of graph.nodes) {
    h.update(`${n.name}\0${n.kind}\0`);
    for (const [k, w] of Object.entries(n.weights)) {
      h.update(`${k}\0${w.shape.join(',')}\0`);
      h.update(new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength));
    }
  }
  h.update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
  h.update(JSON.stringify(settings));
  return h.digest('hex');
}

export interface ClassSums {
  /** Class keys, ascending. */
  classes: number[];
  counts: number[];
  /** float64 [classes, per]. */
  sums: Float64Array;
  per: number;
}

/** Per-class float64 sums of n maps of `per` values, keyed by `keys[s]`. */
export function classSums(maps: Float32Array, keys: ArrayLike<number>, per: number): ClassSums {
  const classes = [...new Set(Array.from(keys))].sort((a, b) => a - b);
  const row = new Map(classes.map((c, i) => [c, i]));
  const sums = new Float64Array(classes.length * per);
  const counts = classes.map(() => 0);
  for (let s = 0; s < keys.length; s++) {
    const r = row.get(keys[s])!;
    counts[r]++;
    const o = r * per;
    for (let i = 0; i < per; i++) sums[o + i] += maps[s * per + i];
  }
  return { classes, counts, sums, per };
}

export interface ShardPart {
  manifest: ShardManifest;
  sums: Float64Array;
  maps?: Float32Array;
}

export async function writeShard(dir: string, part: ShardPart): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const { manifest, sums, maps } = part;
  const written = [join(dir, 'shard.json'), join(dir, 'class-sums.npy')];
  await writeFile(written[1], writeNpy(sums, [manifest.classes.length, ...manifest.mapShape]));
  if (maps) {
    written.push(join(dir, 'maps.npy'));
    await writeFile(written[2], writeNpy(maps, [manifest.samples.stop - manifest.samples.start, ...manifest.mapShape]));
  }
  // The manifest last: a folder with a manifest is a complete shard.
  await writeFile(written[0], JSON.stringify(manifest, null, 1) + '\n');
  return written;
}

async function readBounded(file: string, max: number): Promise<Uint8Array> {
  const st = await stat(file).catch(() => {
    throw new LensError('FILE_NOT_FOUND', `no such file: ${file} (is this a folder written by explain --shard?)`, { file });
  });
  if (!st.isFile()) throw new LensError('BAD_INPUT', `${file} is not a file`, { file });
  if (st.size > max) throw new LensError('BAD_INPUT', `${file} is ${st.size} bytes, more than the ${max} a shard may hold`, { file });
  return new Uint8Array(await readFile(file));
}

const isInt = (v: unknown, min = 0): v is number => Number.isSafeInteger(v) && (v as number) >= min;

/** Checks a manifest's fields before anything is allocated from them. */
function checkManifest(m: ShardManifest, file: string): void {
  const bad = (what: string): never => {
    throw new LensError('BAD_INPUT', `${file}: ${what}`, { file });
  };
  if (m?.format !== SHARD_FORMAT) bad(`not an lrp-lens shard manifest (format '${String(m?.format)}')`);
  if (m.version !== SHARD_VERSION) bad(`shard format version ${String(m.version)}, this lrp-lens reads ${SHARD_VERSION}`);
  if (!isInt(m.shard?.count, 1) || !isInt(m.shard.index) || m.shard.index >= m.shard.count) bad('bad shard index');
  if (typeof m.run !== 'string' || m.scheme !== 'contiguous') bad('bad run or scheme');
  const s = m.samples;
  if (!isInt(s?.total) || !isInt(s.start) || !isInt(s.stop) || s.start > s.stop || s.stop > s.total) bad('bad sample range');
  const want = shardRange(s.total, m.shard);
  if (want.start !== s.start || want.stop !== s.stop) bad(`samples ${s.start}..${s.stop} are not shard ${m.shard.index}/${m.shard.count}'s block ${want.start}..${want.stop} of ${s.total}`);
  if (!Array.isArray(m.mapShape) || !m.mapShape.every((d) => isInt(d, 1)) || m.mapShape.reduce((a, b) => a * b, 1) > 2 ** 28) bad('bad map shape');
  if (!Array.isArray(m.classes) || !m.classes.every((c) => isInt(c?.class) && isInt(c.count, 1))) bad('bad class list');
  if (m.classes.reduce((a, c) => a + c.count, 0) !== s.stop - s.start) bad('class counts do not add up to the samples');
  if (m.classBy !== 'label' && m.classBy !== 'target') bad('bad classBy');
  if (m.findings !== null && !(Array.isArray(m.findings) && m.findings.every((f) => typeof f?.code === 'string' && typeof f.severity === 'string' && typeof f.message === 'string'))) bad('bad findings');
  if (m.classNames !== undefined && !(Array.isArray(m.classNames) && m.classNames.every((c) => typeof c === 'string'))) bad('bad class names');
  if (m.describe === null || typeof m.describe !== 'object' || Array.isArray(m.describe)) bad('bad describe block');
}

export async function readShard(dir: string): Promise<ShardPart> {
  const file = join(dir, 'shard.json');
  let manifest: ShardManifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(await readBounded(file, MAX_MANIFEST_BYTES))) as ShardManifest;
  } catch (e) {
    if (e instanceof LensError) throw e;
    throw new LensError('BAD_INPUT', `${file}: not JSON (${(e as Error).message})`, { file });
  }
  checkManifest(manifest, file);
  const per = manifest.mapShape.reduce((a, b) => a * b, 1);
  const array = async (name: string, dtype: 'f8' | 'f4', rows: number): Promise<Float64Array | Float32Array> => {
    const f = join(dir, name);
    const a = readNpy(await readBounded(f, 64 + rows * per * (dtype === 'f8' ? 8 : 4) + 4096), f);
    const shape = [rows, ...manifest.mapShape];
    if (a.dtype !== dtype || a.shape.length !== shape.length || a.shape.some((d, i) => d !== shape[i])) {
      throw new LensError('BAD_INPUT', `${f}: ${a.dtype} [${a.shape.join(', ')}], the manifest says ${dtype} [${shape.join(', ')}]`, { file: f });
    }
    return a.data as Float64Array | Float32Array;
  };
  const sums = (await array('class-sums.npy', 'f8', manifest.classes.length)) as Float64Array;
  const maps = manifest.maps ? ((await array('maps.npy', 'f4', manifest.samples.stop - manifest.samples.start)) as Float32Array) : undefined;
  return { manifest, sums, maps };
}

export interface Merged {
  describe: Record<string, unknown>;
  shards: number;
  samples: number;
  mapShape: number[];
  classBy: ShardManifest['classBy'];
  classNames?: string[];
  classes: { class: number; name?: string; count: number }[];
  /** float64 [classes, ...mapShape]: each class's mean map. */
  means: Float64Array;
  /** Every sample's map in sample order, when every shard wrote its maps. */
  maps?: Float32Array;
  findings: Finding[] | null;
  findingsNote?: string;
}

/** The shards of one run combined: every shard once, class sums added in shard order, means, findings. */
export function mergeShards(parts: ShardPart[]): Merged {
  if (!parts.length) throw new LensError('USAGE', 'merge needs at least one shard folder');
  const first = parts[0].manifest;
  const count = first.shard.count;
  const byIndex = new Map<number, ShardPart>();
  for (const p of parts) {
    const m = p.manifest;
    if (m.run !== first.run || m.shard.count !== count || m.samples.total !== first.samples.total || m.classBy !== first.classBy || m.mapShape.join() !== first.mapShape.join()) {
      throw new LensError('BAD_INPUT', `shard ${m.shard.index}/${m.shard.count} belongs to another run than shard ${first.shard.index}/${count} (model, data, composite, parameters or target differ)`);
    }
    if (byIndex.has(m.shard.index)) throw new LensError('BAD_INPUT', `shard ${m.shard.index}/${count} given twice`);
    byIndex.set(m.shard.index, p);
  }
  if (byIndex.size !== count) {
    // The first few missing (the count comes from a file: never walk all of a huge one).
    const missing: string[] = [];
    for (let i = 0; missing.length < 5 && i < count; i++) if (!byIndex.has(i)) missing.push(`${i}/${count}`);
    throw new LensError('BAD_INPUT', `shard(s) ${missing.join(', ')}${count - byIndex.size > missing.length ? ', ...' : ''} missing: merge needs all ${count}`);
  }
  const ordered = [...byIndex.keys()].sort((a, b) => a - b).map((i) => byIndex.get(i)!);
  const per = first.mapShape.reduce((a, b) => a * b, 1);
  const classes = [...new Set(ordered.flatMap((p) => p.manifest.classes.map((c) => c.class)))].sort((a, b) => a - b);
  const row = new Map(classes.map((c, i) => [c, i]));
  const sums = new Float64Array(classes.length * per);
  const counts = classes.map(() => 0);
  for (const p of ordered) {
    p.manifest.classes.forEach((c, j) => {
      const r = row.get(c.class)!;
      counts[r] += c.count;
      for (let i = 0; i < per; i++) sums[r * per + i] += p.sums[j * per + i];
    });
  }
  const means = sums.map((v, i) => v / counts[Math.floor(i / per)]);
  let maps: Float32Array | undefined;
  if (ordered.every((p) => p.maps)) {
    maps = new Float32Array(first.samples.total * per);
    for (const p of ordered) maps.set(p.maps!, p.manifest.samples.start * per);
  }
  const judged = ordered.find((p) => p.manifest.findings !== null);
  const names = first.classNames;
  return {
    describe: first.describe,
    shards: count,
    samples: first.samples.total,
    mapShape: first.mapShape,
    classBy: first.classBy,
    ...(names ? { classNames: names } : {}),
    classes: classes.map((c, i) => ({ class: c, ...(names?.[c] !== undefined ? { name: names[c] } : {}), count: counts[i] })),
    means,
    ...(maps ? { maps } : {}),
    findings: judged?.manifest.findings ?? null,
    ...(judged ? {} : { findingsNote: ordered[0].manifest.findingsNote ?? 'no shard judged the maps' }),
  };
}
