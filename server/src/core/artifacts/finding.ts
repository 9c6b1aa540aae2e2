/**
 * A finding: one artifact check's verdict about one model (and layer), as the CLI, the server's
 * diagnostics and the panel show it. Codes are stable (LRP1xx static, LRP2xx relevance-map checks).
 */

export type Severity = 'error' | 'warning' | 'information' | 'hint';

export interface FindingLocation {
  /** Absolute path of the file the finding is about (the model file, or lrp-lens.json). */
  file: string;
  /** Character range [start, end) in a JSON file (the layer's entry in model.json, a key in lrp-lens.json). */
  range?: [number, number];
}

export interface Finding {
  code: string;
  severity: Severity;
  /** States the measured figure and the threshold. */
  message: string;
  /** The layer it comes from, where there is one. */
  layer?: { name: string; index: number };
  location: FindingLocation;
  /** What to do about it. */
  remedy: string;
  /** Link to docs/findings/<code>.md (a URL in the repository, or a file URL when served locally). */
  docs: string;
  /** Measured figures behind the message, for JSON output and the panel. */
  data?: Record<string, number | string | boolean | number[]>;
}
