/**
 * Errors as values with stable codes, raised at the boundary and rendered by the shells
 * (CLI: exit 2 and `{"error": {...}}`; server: one diagnostic). Codes are documented in docs/errors.md.
 */

export type ErrorCode =
  // files and containers
  | 'FILE_NOT_FOUND'
  | 'FILE_TOO_LARGE'
  | 'FORMAT_UNKNOWN'
  | 'TRUNCATED'
  | 'CORRUPT'
  | 'BAD_JSON'
  | 'ZIP_UNSAFE'
  // architecture
  | 'NO_ARCHITECTURE'
  | 'GRAPH_MODEL'
  | 'LAMBDA_LAYER'
  | 'CUSTOM_LAYER'
  | 'UNSUPPORTED_LAYER'
  | 'UNSUPPORTED_OP'
  | 'UNSUPPORTED_CONFIG'
  | 'GRAPH_CYCLE'
  | 'GRAPH_INVALID'
  | 'SHAPE_LIMIT'
  | 'SHAPE_MISMATCH'
  // weights
  | 'MISSING_WEIGHTS'
  | 'WEIGHT_MISMATCH'
  // inputs, data and options
  | 'BAD_INPUT'
  | 'DATA_ERROR'
  | 'UNKNOWN_VARIABLE'
  | 'SELECTION_OUT_OF_RANGE'
  | 'CONFIG_ERROR'
  | 'BUDGET_EXCEEDED'
  | 'USAGE'
  | 'BACKEND_UNAVAILABLE'
  | 'LRP_UNSUPPORTED'
  | 'CANCELLED'
  | 'INTERNAL';

export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  file?: string;
  layer?: string;
  /** What the user can do instead (re-save, export differently, replace a layer). */
  hint?: string;
}

export class LensError extends Error {
  readonly code: ErrorCode;
  readonly file?: string;
  readonly layer?: string;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, where: { file?: string; layer?: string; hint?: string } = {}) {
    super(message);
    this.name = 'LensError';
    this.code = code;
    this.file = where.file;
    this.layer = where.layer;
    this.hint = where.hint;
  }

  toJSON(): ErrorInfo {
    const info: ErrorInfo = { code: this.code, message: this.message };
    if (this.file !== undefined) info.file = this.file;
    if (this.layer !== undefined) info.layer = this.layer;
    if (this.hint !== undefined) info.hint = this.hint;
    return info;
  }

  /** The same error with the file filled in where the raiser did not know it. */
  withFile(file: string): LensError {
    return this.file ? this : new LensError(this.code, this.message, { file, layer: this.layer, hint: this.hint });
  }

  /** The same error naming the layer it was raised in, where the raiser did not (its hint kept); `file` replaces the file then. */
  withLayer(layer: string, file: string | undefined = this.file): LensError {
    return this.layer ? this : new LensError(this.code, this.message, { file, layer, hint: this.hint });
  }
}

/** Any thrown value as a structured error; unknown exceptions become INTERNAL (still no crash). */
export function toLensError(e: unknown, file?: string): LensError {
  if (e instanceof LensError) return file ? e.withFile(file) : e;
  if (e instanceof RangeError) {
    // Reading past the end of a buffer: the file is shorter than its headers say.
    return new LensError('TRUNCATED', `file ends early or is malformed: ${e.message}`, { file });
  }
  const message = e instanceof Error ? e.message : String(e);
  return new LensError('INTERNAL', message, { file });
}

/** Upper bounds checked before allocating anything a file declares. */
export const LIMITS = {
  /** Largest single tensor (elements) a model may declare. */
  maxTensorElements: 512 * 1024 * 1024 / 4,
  /** Largest total weight bytes of one model. */
  maxWeightBytes: 2 * 1024 * 1024 * 1024,
  /** Largest uncompressed zip entry and total (zip-bomb guard). */
  maxZipEntryBytes: 2 * 1024 * 1024 * 1024,
  maxZipRatio: 200,
  /** Most layers/nodes in one graph. */
  maxNodes: 100_000,
};
