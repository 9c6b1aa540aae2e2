/** Bytes for the panel's exports: relevance as .npy or NetCDF, findings as CSV. No vscode import (tested in Node). */
import { writeNpy } from '../../server/src/core/data/npy.js';
import { findingsToCsv } from '../../server/src/core/render/csv.js';
import type { EncodedArray, FindingSummary } from '../../server/src/protocol.js';

export function npyBytes(a: EncodedArray): Uint8Array {
  const b = Buffer.from(a.base64, 'base64');
  const n = a.shape.reduce((x, y) => x * y, 1);
  if (b.length !== n * 4) throw new Error(`relevance of shape [${a.shape.join(', ')}] needs ${n * 4} bytes, got ${b.length}`);
  const data = new Float32Array(n);
  new Uint8Array(data.buffer).set(b);
  return writeNpy(data, a.shape);
}

export function findingsCsv(findings: FindingSummary[]): string {
  return findingsToCsv(findings.map((f) => ({
    code: f.code, severity: f.severity, message: f.message, remedy: f.remedy, docs: f.docs, layer: f.layer,
    location: { file: f.file, range: f.range }, data: f.data,
  })));
}

/** Whether a language-server error says a backend (sharp, for PNG export) is missing where it runs. */
export function isBackendUnavailable(e: unknown): boolean {
  const err = e as { code?: unknown; data?: { code?: unknown } } | undefined;
  return err?.data?.code === 'BACKEND_UNAVAILABLE' || err?.code === 'BACKEND_UNAVAILABLE';
}

/** The bytes of the server's NetCDF export (lrpLens/exportNetcdf), checked to be a NetCDF-3 file before they are saved. */
export function netcdfBytes(base64: string): Uint8Array {
  const b = Buffer.from(base64, 'base64');
  if (b.length < 32 || b.toString('latin1', 0, 3) !== 'CDF' || (b[3] !== 1 && b[3] !== 2)) throw new Error('the server did not send a NetCDF-3 file');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** The bytes of a PNG the page rendered itself (validated: the message validator checked the signature). */
export function pngBytes(base64: string): Uint8Array {
  const b = Buffer.from(base64, 'base64');
  if (b.length < 8 || b.readUInt32BE(0) !== 0x89504e47 || b.readUInt32BE(4) !== 0x0d0a1a0a) throw new Error('not a PNG image');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
