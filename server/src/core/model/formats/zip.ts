/**
 * A guarded zip reader for `.keras` archives. The central directory is read and checked first (entry
 * names that climb out with `..` or are absolute, declared sizes over LIMITS, suspicious compression
 * ratios), so nothing is inflated before the whole archive looks sane; entries are inflated into a
 * buffer of their declared size and checked against their CRC.
 */
import { inflateSync } from 'fflate';
import { LensError, LIMITS } from '../../errors.js';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  localOffset: number;
}

/** Entries larger than this must not compress better than LIMITS.maxZipRatio (small JSON may). */
const RATIO_FLOOR_BYTES = 1 << 20;

export function isZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

export function unsafeName(name: string): boolean {
  if (name.includes('\0')) return true;
  if (name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name)) return true;
  return name.split(/[\\/]/).some((seg) => seg === '..');
}

let crcTable: Uint32Array | undefined;
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export class ZipArchive {
  readonly entries: ZipEntry[];

  private constructor(private readonly bytes: Uint8Array, entries: ZipEntry[], private readonly file?: string) {
    this.entries = entries;
  }

  /** Parse and check the central directory; throws ZIP_UNSAFE / CORRUPT / TRUNCATED. */
  static open(bytes: Uint8Array, file?: string): ZipArchive {
    const where = { file };
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // End of central directory: the last 22+ bytes (a comment of up to 64 KiB may follow it).
    let eocd = -1;
    for (let i = bytes.length - 22; i >= 0 && i >= bytes.length - 22 - 0xffff; i--) {
      if (view.getUint32(i, true) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new LensError('TRUNCATED', 'zip archive has no end-of-directory record (truncated or not a zip)', where);
    const count = view.getUint16(eocd + 10, true);
    const cdSize = view.getUint32(eocd + 12, true);
    const cdOffset = view.getUint32(eocd + 16, true);
    if (count === 0xffff || cdOffset === 0xffffffff) throw new LensError('ZIP_UNSAFE', 'zip64 archives are not supported', where);
    if (cdOffset + cdSize > eocd) throw new LensError('TRUNCATED', 'zip central directory lies outside the file', where);
    const entries: ZipEntry[] = [];
    let p = cdOffset;
    let total = 0;
    for (let k = 0; k < count; k++) {
      if (p + 46 > eocd || view.getUint32(p, true) !== 0x02014b50) throw new LensError('CORRUPT', `zip central directory entry ${k} is damaged`, where);
      const flags = view.getUint16(p + 8, true);
      const method = view.getUint16(p + 10, true);
      const crc = view.getUint32(p + 16, true);
      const compressedSize = view.getUint32(p + 20, true);
      const size = view.getUint32(p + 24, true);
      const nameLen = view.getUint16(p + 28, true);
      const extraLen = view.getUint16(p + 30, true);
      const commentLen = view.getUint16(p + 32, true);
      const localOffset = view.getUint32(p + 42, true);
      if (p + 46 + nameLen > eocd) throw new LensError('CORRUPT', `zip central directory entry ${k} is damaged`, where);
      const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
      p += 46 + nameLen + extraLen + commentLen;
      if (unsafeName(name)) throw new LensError('ZIP_UNSAFE', `zip entry name ${JSON.stringify(name)} points outside the archive`, where);
      if (flags & 1) throw new LensError('ZIP_UNSAFE', `zip entry ${name} is encrypted`, where);
      if (size === 0xffffffff || compressedSize === 0xffffffff) throw new LensError('ZIP_UNSAFE', `zip entry ${name} uses zip64 sizes (over 4 GiB)`, where);
      if (size > LIMITS.maxZipEntryBytes) throw new LensError('ZIP_UNSAFE', `zip entry ${name} declares ${size} bytes uncompressed, over the limit ${LIMITS.maxZipEntryBytes}`, where);
      total += size;
      if (total > LIMITS.maxZipEntryBytes) throw new LensError('ZIP_UNSAFE', `zip entries declare ${total} bytes uncompressed in all, over the limit`, where);
      if (size > RATIO_FLOOR_BYTES && size / Math.max(compressedSize, 1) > LIMITS.maxZipRatio) {
        throw new LensError('ZIP_UNSAFE', `zip entry ${name} would inflate ${compressedSize} bytes to ${size} (ratio over ${LIMITS.maxZipRatio}): refused as a possible zip bomb`, where);
      }
      if (method !== 0 && method !== 8) throw new LensError('CORRUPT', `zip entry ${name} uses compression method ${method} (only stored and deflate are supported)`, where);
      if (localOffset + 30 > bytes.length) throw new LensError('TRUNCATED', `zip entry ${name} lies outside the file`, where);
      entries.push({ name, method, compressedSize, size, crc, localOffset });
    }
    return new ZipArchive(bytes, entries, file);
  }

  has(name: string): boolean {
    return this.entries.some((e) => e.name === name);
  }

  /** Inflate one entry (undefined when absent). */
  read(name: string): Uint8Array | undefined {
    const e = this.entries.find((x) => x.name === name);
    if (!e) return undefined;
    const where = { file: this.file };
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    if (view.getUint32(e.localOffset, true) !== 0x04034b50) throw new LensError('CORRUPT', `zip entry ${name}: local header is damaged`, where);
    const start = e.localOffset + 30 + view.getUint16(e.localOffset + 26, true) + view.getUint16(e.localOffset + 28, true);
    const end = start + e.compressedSize;
    if (end > this.bytes.length) throw new LensError('TRUNCATED', `zip entry ${name} is cut off`, where);
    const raw = this.bytes.subarray(start, end);
    let out: Uint8Array;
    if (e.method === 0) {
      if (e.compressedSize !== e.size) throw new LensError('CORRUPT', `zip entry ${name}: stored sizes disagree`, where);
      out = raw;
    } else {
      try {
        out = inflateSync(raw, { out: new Uint8Array(e.size) });
      } catch (err) {
        throw new LensError('CORRUPT', `zip entry ${name} does not inflate: ${err instanceof Error ? err.message : String(err)}`, where);
      }
      if (out.length !== e.size) throw new LensError('CORRUPT', `zip entry ${name} inflates to ${out.length} bytes, its header says ${e.size}`, where);
    }
    if (crc32(out) !== e.crc) throw new LensError('CORRUPT', `zip entry ${name} fails its CRC check`, where);
    return out;
  }
}
