/** A LensError tied to a key of lrp-lens.json, so the language server can underline that key. */
import { LensError, toLensError, type ErrorCode } from '../errors.js';
import type { JsonPath } from '../json/located-json.js';

export class KeyedError extends LensError {
  constructor(code: ErrorCode, message: string, readonly keyPath: JsonPath, where: { file?: string } = {}) {
    super(code, message, where);
  }
}

/** Run `f`; an error it throws without a key path gets `path`. */
export async function atKey<T>(path: JsonPath, f: () => Promise<T> | T): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof KeyedError) throw e;
    const le = toLensError(e);
    throw new KeyedError(le.code, le.message, path, { file: le.file });
  }
}
