/** Reading a JSON model file as text, with a size guard. */
import { readFileSync, statSync } from 'node:fs';
import { LensError } from '../../errors.js';

/** Largest JSON model file read into memory. */
export const MAX_JSON_BYTES = 256 * 1024 * 1024;

export function readJsonText(path: string): string {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new LensError('FILE_NOT_FOUND', `cannot read ${path}`, { file: path });
  }
  if (size > MAX_JSON_BYTES) throw new LensError('FILE_TOO_LARGE', `JSON model file is ${size} bytes, over ${MAX_JSON_BYTES}`, { file: path });
  return readFileSync(path, 'utf8');
}
