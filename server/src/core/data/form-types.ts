/**
 * The data form's vocabulary, declared once for the server's core (describe.ts, draft.ts) and the protocol
 * the client and the panel import (protocol.ts re-exports it): type declarations only, so it belongs to
 * the common project (tsconfig.common.json) and the webview can import it.
 */

/**
 * A model entry of lrp-lens.json that is not written yet: the same JSON keys and values as in the file
 * (docs/lrp-lens-json.md, schemas/lrp-lens.schema.json), so the panel's data form edits exactly what
 * "Save" writes and the server validates it with the project file's own parser. Paths are absolute or
 * relative to the folder the entry will be saved in.
 */
export interface EntryDraft {
  name?: string;
  data: { file: string; variable?: string; variables?: string[]; format?: string; select?: Record<string, unknown> };
  /** lrp-lens.json `input` (sampleDim, flatten, standardize, fillValue, wrapLon, sequence, ...). */
  input?: Record<string, unknown>;
  /** lrp-lens.json `mask` ('missing' or a mask variable). */
  mask?: unknown;
  coords?: { lat?: string; lon?: string; time?: string };
  labels?: unknown;
  classNames?: string[];
  explain?: { composite?: string; target?: 'predicted' | 'label' | number };
}

/** CF role of a dimension, as detected from units, axis and standard_name attributes. */
export type DimRole = 'time' | 'lat' | 'lon' | 'level' | 'other';

export interface DataVariableInfo {
  name: string;
  dims: string[];
  shape: number[];
  roles: DimRole[];
  units?: string;
  longName?: string;
  standardName?: string;
  fillValue?: number;
}

export interface DataAxisInfo {
  name: string;
  role: DimRole;
  size: number;
  units?: string;
  /** First and last coordinate value (numbers; ISO dates for time) and the spacing of a regular axis. */
  first?: number | string;
  last?: number | string;
  step?: number;
  /** Time axis only: every step as an ISO date (YYYY-MM-DD), so the panel can offer date pickers. */
  times?: string[];
}
