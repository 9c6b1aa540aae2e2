/**
 * Bounded decompressors for Zarr chunks, put in place of zarrita's own in its codec registry. A chunk's
 * decoded size is known from its array's metadata (chunk shape x item size), so a compressed chunk that
 * would inflate past it (a decompression bomb, or a chunk whose size lies) is refused before or while
 * inflating, never after allocating what it asks: gzip/zlib stop at that many bytes (node:zlib's
 * maxOutputLength); blosc, zstd and lz4 declare their decoded size in their headers, checked first.
 * The decoding itself stays the libraries': node:zlib, and numcodecs (c-blosc, zstd, lz4 in WebAssembly).
 */
import { gunzipSync, inflateSync } from 'node:zlib';
import { registry } from 'zarrita';
import { LensError } from '../errors.js';

const ITEM_BYTES: Record<string, number> = {
  bool: 1, int8: 1, uint8: 1, int16: 2, uint16: 2, float16: 2, int32: 4, uint32: 4, float32: 4, int64: 8, uint64: 8, float64: 8,
};

/** Bytes one decoded chunk holds (what every bytes-to-bytes codec must decode to at most). */
export function decodedChunkBytes(dataType: string, chunkShape: number[]): number {
  return chunkShape.reduce((a, b) => a * b, ITEM_BYTES[dataType] ?? 16);
}

interface ChunkMeta {
  dataType: string;
  shape: number[];
}

type Decode = (data: Uint8Array, limit: number) => Promise<Uint8Array> | Uint8Array;

function tooBig(codec: string, declared: number | string, limit: number): LensError {
  return new LensError('CORRUPT', `a ${codec} chunk decodes to ${declared} bytes, more than the ${limit} its array's chunk shape and type hold`);
}

function u32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) + b[at + 3] * 2 ** 24;
}

/** zlib's own inflate with an output cap: a bomb stops at `limit` bytes. */
function inflateBounded(kind: 'gzip' | 'zlib'): Decode {
  return (data, limit) => {
    try {
      const out = (kind === 'gzip' ? gunzipSync : inflateSync)(data, { maxOutputLength: Math.max(1, limit) });
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooBig(kind, `more than ${limit}`, limit);
      throw new LensError('CORRUPT', `a ${kind} chunk does not inflate: ${(e as Error).message}`);
    }
  };
}

/** Blosc-1 header: nbytes (decoded size) at 4, cbytes (frame size) at 12. */
const blosc: Decode = async (data, limit) => {
  if (data.length < 16) throw new LensError('CORRUPT', `a blosc chunk of ${data.length} bytes is shorter than its 16-byte header`);
  const nbytes = u32(data, 4);
  const cbytes = u32(data, 12);
  if (nbytes > limit) throw tooBig('blosc', nbytes, limit);
  if (cbytes !== data.length) throw new LensError('CORRUPT', `a blosc chunk declares ${cbytes} bytes but holds ${data.length}`);
  const Blosc = (await import('numcodecs/blosc')).default;
  return Blosc.fromConfig({ id: 'blosc' }).decode(data);
};

/** Zstandard frame header: the frame content size, which every frame a Zarr writer makes declares. */
function zstdContentSize(data: Uint8Array): number | undefined {
  if (data.length < 6 || u32(data, 0) !== 0xfd2fb528) throw new LensError('CORRUPT', 'a zstd chunk has no zstd frame header');
  const fhd = data[4];
  const fcsFlag = fhd >> 6;
  const single = (fhd >> 5) & 1;
  const dictBytes = [0, 1, 2, 4][fhd & 3];
  const fcsBytes = [single ? 1 : 0, 2, 4, 8][fcsFlag];
  if (fcsBytes === 0) return undefined;
  const at = 5 + (single ? 0 : 1) + dictBytes;
  if (data.length < at + fcsBytes) throw new LensError('CORRUPT', 'a zstd chunk ends inside its frame header');
  if (fcsBytes === 1) return data[at];
  if (fcsBytes === 2) return (data[at] | (data[at + 1] << 8)) + 256;
  if (fcsBytes === 4) return u32(data, at);
  return u32(data, at) + u32(data, at + 4) * 2 ** 32;
}

const zstd: Decode = async (data, limit) => {
  const size = zstdContentSize(data);
  if (size === undefined) throw new LensError('CORRUPT', 'a zstd chunk does not declare its decoded size (frame written by a streaming compressor): refused, its size cannot be bounded before decoding');
  if (size > limit) throw tooBig('zstd', size, limit);
  const Zstd = (await import('numcodecs/zstd')).default;
  return Zstd.fromConfig({ id: 'zstd' }).decode(data);
};

/** numcodecs' LZ4: a 4-byte little-endian decoded size, then an LZ4 block. */
const lz4: Decode = async (data, limit) => {
  if (data.length < 4) throw new LensError('CORRUPT', 'an lz4 chunk is shorter than its size prefix');
  if (u32(data, 0) > limit) throw tooBig('lz4', u32(data, 0), limit);
  const LZ4 = (await import('numcodecs/lz4')).default;
  return LZ4.fromConfig({ id: 'lz4' }).decode(data);
};

function bounded(name: string, decode: Decode) {
  return {
    kind: 'bytes_to_bytes' as const,
    fromConfig(_config: unknown, meta: ChunkMeta) {
      const limit = decodedChunkBytes(meta.dataType, meta.shape);
      return {
        kind: 'bytes_to_bytes' as const,
        encode(): Uint8Array {
          throw new LensError('INTERNAL', `the Zarr reader does not write ${name} chunks`);
        },
        async decode(data: Uint8Array): Promise<Uint8Array> {
          const out = await decode(data, limit);
          if (out.length > limit) throw tooBig(name, out.length, limit);
          return out;
        },
      };
    },
  };
}

let installed = false;

/** Replace zarrita's decompressors by the bounded ones (v3 names and the numcodecs ids of v2). */
export function installBoundedCodecs(): void {
  if (installed) return;
  installed = true;
  const codecs: Record<string, Decode> = { gzip: inflateBounded('gzip'), zlib: inflateBounded('zlib'), blosc, zstd, lz4 };
  for (const [name, decode] of Object.entries(codecs)) {
    const entry = bounded(name, decode);
    for (const key of [name, `numcodecs.${name}`]) registry.set(key, async () => entry as never);
  }
}
