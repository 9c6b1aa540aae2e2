/**
 * TensorFlow V2 checkpoints (tensor bundles) without TensorFlow: `<prefix>.index` is a LevelDB-style
 * table (data blocks of prefix-compressed entries with restart points, an index block, a 48-byte footer
 * with a magic number; each block followed by a type byte and a masked CRC-32C) mapping checkpoint keys
 * to BundleEntryProto records (dtype, shape, shard, offset, size, crc32c) into raw little-endian
 * `<prefix>.data-NNNNN-of-MMMMM` shards. Every CRC and declared size is checked before allocating.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { LensError, LIMITS } from '../../errors.js';
import { decodeTfNumbers, tfDtypeBytes, tfDtypeName } from './tf-dtype.js';
import { crc32c, unmaskCrc } from './crc32c.js';
import { decodeProto, shapeDims, type BundleEntry, type BundleHeader, type TrackableObjectGraph } from './savedmodel-proto.js';

/** Index files are small (one entry per variable); this bounds what is read into memory. */
export const MAX_INDEX_BYTES = 64 * 1024 * 1024;
/** The serialized object graph is one string tensor; TF keeps it well under this. */
const MAX_STRING_TENSOR_BYTES = 64 * 1024 * 1024;
const MAX_SHARDS = 100_000;
const FOOTER_BYTES = 48;
const BLOCK_TRAILER_BYTES = 5;
const TABLE_MAGIC = [0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb]; // 0xdb4775248b80fb57, little-endian

export const OBJECT_GRAPH_KEY = '_CHECKPOINTABLE_OBJECT_GRAPH';

const DT_STRING = 7;

class Reader {
  constructor(readonly bytes: Uint8Array, public pos: number, readonly end: number, readonly what: string, readonly file: string) {}
  varint(): number {
    let r = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new LensError('TRUNCATED', `${this.what}: a number runs past the end of its block`, { file: this.file });
      const b = this.bytes[this.pos++];
      r += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (!Number.isSafeInteger(r)) throw new LensError('CORRUPT', `${this.what}: a number is too large`, { file: this.file });
        return r;
      }
      mul *= 128;
    }
    throw new LensError('CORRUPT', `${this.what}: a malformed number`, { file: this.file });
  }
}

interface Handle { offset: number; size: number }

function corrupt(file: string, msg: string): never {
  throw new LensError('CORRUPT', msg, { file });
}

function readHandle(r: Reader): Handle {
  return { offset: r.varint(), size: r.varint() };
}

/** One block's bytes after checking its bounds, compression type and CRC. */
function blockBytes(buf: Uint8Array, h: Handle, limit: number, file: string, what: string): Uint8Array {
  if (h.offset + h.size + BLOCK_TRAILER_BYTES > limit) {
    throw new LensError('TRUNCATED', `${basename(file)}: the ${what} at offset ${h.offset} (${h.size} bytes) runs past the end of the table`, { file });
  }
  const type = buf[h.offset + h.size];
  const stored = new DataView(buf.buffer, buf.byteOffset + h.offset + h.size + 1, 4).getUint32(0, true);
  if (crc32c(buf.subarray(h.offset, h.offset + h.size + 1)) !== unmaskCrc(stored)) {
    corrupt(file, `${basename(file)}: the ${what} at offset ${h.offset} fails its CRC-32C check (damaged file)`);
  }
  if (type !== 0) {
    // TF's checkpoint writer turns compression off; a compressed table was written by something else.
    throw new LensError(
      'UNSUPPORTED_CONFIG',
      `${basename(file)}: the ${what} at offset ${h.offset} is ${type === 1 ? 'Snappy' : `type-${type}`}-compressed; TensorFlow writes checkpoint tables uncompressed and LRP Lens reads only those (re-save the model with TensorFlow)`,
      { file },
    );
  }
  return buf.subarray(h.offset, h.offset + h.size);
}

/** Key/value entries of one block (prefix-compressed keys; the restart array is checked for bounds). */
function blockEntries(block: Uint8Array, file: string, what: string, out: [string, Uint8Array][], maxEntries: number): void {
  if (block.length < 4) throw new LensError('TRUNCATED', `${basename(file)}: ${what} is shorter than its restart count`, { file });
  const dv = new DataView(block.buffer, block.byteOffset, block.length);
  const restarts = dv.getUint32(block.length - 4, true);
  const restartStart = block.length - 4 - 4 * restarts;
  if (restarts < 1 || restartStart < 0) corrupt(file, `${basename(file)}: ${what} declares ${restarts} restart points, which do not fit its ${block.length} bytes`);
  for (let i = 0; i < restarts; i++) {
    if (dv.getUint32(restartStart + 4 * i, true) > restartStart) corrupt(file, `${basename(file)}: ${what} has a restart point outside its entries`);
  }
  const r = new Reader(block, 0, restartStart, `${basename(file)} ${what}`, file);
  const dec = new TextDecoder('utf-8', { fatal: false });
  let key = new Uint8Array(0);
  while (r.pos < restartStart) {
    const shared = r.varint();
    const own = r.varint();
    const valueLen = r.varint();
    if (shared > key.length) corrupt(file, `${basename(file)}: ${what} has an entry that shares ${shared} bytes of a ${key.length}-byte key`);
    if (r.pos + own + valueLen > restartStart) throw new LensError('TRUNCATED', `${basename(file)}: ${what} has an entry that runs past its end`, { file });
    const next = new Uint8Array(shared + own);
    next.set(key.subarray(0, shared));
    next.set(block.subarray(r.pos, r.pos + own), shared);
    key = next;
    r.pos += own;
    out.push([dec.decode(key), block.subarray(r.pos, r.pos + valueLen)]);
    r.pos += valueLen;
    if (out.length > maxEntries) corrupt(file, `${basename(file)}: more than ${maxEntries} entries`);
  }
}

/** All key/value pairs of a LevelDB-format table, in key order. */
export function readTable(buf: Uint8Array, file: string, maxEntries = LIMITS.maxNodes * 10): [string, Uint8Array][] {
  if (buf.length < FOOTER_BYTES) throw new LensError('TRUNCATED', `${basename(file)} is ${buf.length} bytes, shorter than a table footer (${FOOTER_BYTES})`, { file });
  const foot = buf.length - FOOTER_BYTES;
  for (let i = 0; i < 8; i++) {
    if (buf[foot + 40 + i] !== TABLE_MAGIC[i]) corrupt(file, `${basename(file)} is not a TensorFlow checkpoint index (no table magic number at its end)`);
  }
  const r = new Reader(buf, foot, foot + 40, `${basename(file)} footer`, file);
  readHandle(r); // metaindex: TF writes no filter blocks, nothing to read there
  const indexHandle = readHandle(r);
  const index: [string, Uint8Array][] = [];
  blockEntries(blockBytes(buf, indexHandle, foot, file, 'index block'), file, 'index block', index, maxEntries);
  const out: [string, Uint8Array][] = [];
  let end = 0;
  for (const [, v] of index) {
    const h = readHandle(new Reader(v, 0, v.length, `${basename(file)} index entry`, file));
    // Data blocks follow each other: an index that points twice at one block (a CPU bomb) is refused.
    if (h.offset < end) corrupt(file, `${basename(file)}: the index points at overlapping data blocks (offset ${h.offset})`);
    end = h.offset + h.size + BLOCK_TRAILER_BYTES;
    blockEntries(blockBytes(buf, h, foot, file, 'data block'), file, `data block at ${h.offset}`, out, maxEntries);
  }
  for (let i = 1; i < out.length; i++) {
    if (out[i - 1][0] >= out[i][0]) corrupt(file, `${basename(file)}: keys are not in order (${JSON.stringify(out[i][0])})`);
  }
  return out;
}

export interface CheckpointTensor {
  key: string;
  dtype: string;
  shape: number[];
}

/** An opened checkpoint: its entries, read on demand from the shards. */
export class Checkpoint {
  readonly entries = new Map<string, BundleEntry>();
  readonly header: BundleHeader;
  private readonly shardSizes = new Map<number, number>();

  /** `prefix` is the path without `.index` (`<dir>/variables/variables`). */
  constructor(readonly prefix: string) {
    const indexFile = `${prefix}.index`;
    const bytes = readBounded(indexFile, MAX_INDEX_BYTES, 'checkpoint index');
    let header: BundleHeader | undefined;
    for (const [k, v] of readTable(bytes, indexFile)) {
      if (k === '') header = decodeProto('BundleHeaderProto', v, `${basename(indexFile)} header`, indexFile);
      else this.entries.set(k, decodeProto('BundleEntryProto', v, `${basename(indexFile)} entry ${k}`, indexFile));
    }
    if (!header) corrupt(indexFile, `${basename(indexFile)} has no bundle header`);
    if (header.endianness !== 0) throw new LensError('UNSUPPORTED_CONFIG', `${basename(indexFile)}: the checkpoint was written big-endian, which is not supported`, { file: indexFile });
    if (header.num_shards < 1 || header.num_shards > MAX_SHARDS) corrupt(indexFile, `${basename(indexFile)} declares ${header.num_shards} shards`);
    this.header = header;
  }

  get indexFile(): string {
    return `${this.prefix}.index`;
  }

  shardFile(id: number): string {
    const pad = (n: number) => String(n).padStart(5, '0');
    return `${this.prefix}.data-${pad(id)}-of-${pad(this.header.num_shards)}`;
  }

  /** Key, dtype and shape of an entry, checked (supported dtype, whole tensor, size matches shape). */
  describe(key: string, layer?: string): CheckpointTensor & { entry: BundleEntry; bytesPer: number } {
    const file = this.indexFile;
    const e = this.entries.get(key);
    if (!e) throw new LensError('MISSING_WEIGHTS', `the checkpoint has no entry ${key}`, { file, layer });
    if (e.slices.length > 0) throw new LensError('UNSUPPORTED_CONFIG', `checkpoint entry ${key} is a partitioned variable (${e.slices.length} slices), which is not supported`, { file, layer });
    const name = tfDtypeName(e.dtype);
    const bytes = name === undefined || name === 'DT_BOOL' ? undefined : tfDtypeBytes(name);
    if (bytes === undefined || name === undefined) throw new LensError('UNSUPPORTED_CONFIG', `checkpoint entry ${key} has TensorFlow dtype ${e.dtype}, not a float or int tensor`, { file, layer });
    const shape = shapeDims(e.shape);
    if (!shape) corrupt(file, `checkpoint entry ${key} has an unknown shape`);
    let elements = 1;
    for (const d of shape) elements *= d;
    if (elements > LIMITS.maxTensorElements) throw new LensError('SHAPE_LIMIT', `checkpoint entry ${key} of shape [${shape}] exceeds the size limit`, { file, layer });
    if (e.size !== elements * bytes) corrupt(file, `checkpoint entry ${key} declares ${e.size} bytes, its ${name} shape [${shape}] needs ${elements * bytes}`);
    return { key, dtype: name, shape, entry: e, bytesPer: bytes };
  }

  /** Raw bytes of an entry, after checking its shard, bounds and CRC. */
  private bytesOf(key: string, e: BundleEntry, maxBytes: number, layer?: string): Uint8Array {
    const file = this.indexFile;
    if (e.shard_id < 0 || e.shard_id >= this.header.num_shards) corrupt(file, `checkpoint entry ${key} points at shard ${e.shard_id} of ${this.header.num_shards}`);
    if (e.size > maxBytes) throw new LensError('SHAPE_LIMIT', `checkpoint entry ${key} declares ${e.size} bytes, over ${maxBytes}`, { file, layer });
    const shard = this.shardFile(e.shard_id);
    let size = this.shardSizes.get(e.shard_id);
    if (size === undefined) {
      try {
        size = statSync(shard).size;
      } catch {
        throw new LensError('MISSING_WEIGHTS', `the checkpoint shard ${basename(shard)} is missing (entry ${key} is stored there)`, { file: shard, layer });
      }
      this.shardSizes.set(e.shard_id, size);
    }
    if (e.offset < 0 || e.offset + e.size > size) {
      throw new LensError('TRUNCATED', `checkpoint entry ${key} lies at bytes ${e.offset}..${e.offset + e.size} of ${basename(shard)}, which has ${size}`, { file: shard, layer });
    }
    const out = new Uint8Array(e.size);
    const fd = openSync(shard, 'r');
    try {
      let done = 0;
      while (done < e.size) {
        const n = readSync(fd, out, done, e.size - done, e.offset + done);
        if (n === 0) throw new LensError('TRUNCATED', `${basename(shard)} ended while reading ${key}`, { file: shard, layer });
        done += n;
      }
    } finally {
      closeSync(fd);
    }
    return out;
  }

  /** A numeric entry as float32 values (float64/half/int converted), CRC checked. */
  readFloat32(key: string, layer?: string): Float32Array {
    const d = this.describe(key, layer);
    const raw = this.bytesOf(key, d.entry, LIMITS.maxWeightBytes, layer);
    if (crc32c(raw) !== unmaskCrc(d.entry.crc32c)) {
      throw new LensError('CORRUPT', `checkpoint entry ${key} fails its CRC-32C check (damaged ${basename(this.shardFile(d.entry.shard_id))})`, { file: this.shardFile(d.entry.shard_id), layer });
    }
    return decodeTfNumbers(raw, d.dtype, raw.length / d.bytesPer);
  }

  /** The scalar string tensor under `key` (TF layout: varint lengths, masked CRC of the lengths, bytes). */
  readString(key: string): Uint8Array {
    const file = this.indexFile;
    const e = this.entries.get(key);
    if (!e) throw new LensError('MISSING_WEIGHTS', `the checkpoint has no entry ${key}`, { file });
    if (e.dtype !== DT_STRING) corrupt(file, `checkpoint entry ${key} is not a string tensor (dtype ${e.dtype})`);
    const shape = shapeDims(e.shape);
    if (!shape || shape.reduce((a, b) => a * b, 1) !== 1) corrupt(file, `checkpoint entry ${key} is not a single string`);
    const raw = this.bytesOf(key, e, MAX_STRING_TENSOR_BYTES);
    const r = new Reader(raw, 0, raw.length, `checkpoint entry ${key}`, file);
    const len = r.varint();
    if (r.pos + 4 + len !== raw.length) corrupt(file, `checkpoint entry ${key} declares a ${len}-byte string in ${raw.length} bytes`);
    // TF checksums the length as a little-endian uint32 (not its varint bytes), then the stored length
    // checksum, then the string bytes.
    const lenBytes = new Uint8Array(4);
    new DataView(lenBytes.buffer).setUint32(0, len, true);
    const crc = crc32c(raw.subarray(r.pos), crc32c(lenBytes));
    if (crc !== unmaskCrc(e.crc32c)) corrupt(file, `checkpoint entry ${key} fails its CRC-32C check`);
    return raw.subarray(r.pos + 4);
  }

  objectGraph(): TrackableObjectGraph {
    return decodeProto('TrackableObjectGraph', this.readString(OBJECT_GRAPH_KEY), 'the checkpoint object graph', this.indexFile);
  }
}

/** A whole file into memory, refusing files above `max` bytes. */
export function readBounded(path: string, max: number, what: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    throw new LensError('MISSING_WEIGHTS', `the ${what} ${basename(path)} is missing`, { file: path });
  }
  try {
    const size = fstatSync(fd).size;
    if (size > max) throw new LensError('FILE_TOO_LARGE', `the ${what} ${basename(path)} has ${size} bytes, over ${max}`, { file: path });
    const out = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, out, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return out.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}
