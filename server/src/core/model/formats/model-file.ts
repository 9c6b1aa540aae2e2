/** Reading model files: the size of a file (FILE_NOT_FOUND when it cannot be read), JSON text with a size guard. */
import { readFileSync, statSync } from 'node:fs';
import { LensError } from '../../errors.js';

/** Largest JSON model file read into memory. */
export const MAX_JSON_BYTES = 256 * 1024 * 1024;

/** Size in bytes of a model file; FILE_NOT_FOUND when it cannot be read. */
export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    throw new LensError('FILE_NOT_FOUND', `cannot read ${path}`, { file: path });
  }
}

export function readJsonText(path: string): string {
  const size = fileSize(path);
  if (size > MAX_JSON_BYTES) throw new LensError('FILE_TOO_LARGE', `JSON model file is ${size} bytes, over ${MAX_JSON_BYTES}`, { file: path });
  return readFileSync(path, 'utf8');
}
