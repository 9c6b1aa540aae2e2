/**
 * What each file-format module provides. One module per format under model/formats/; `model/load.ts`
 * detects the format, calls `load`, then runs shape inference over the returned graph.
 */
import type { FormatName, ModelGraph } from '../graph.js';

export interface LoadOptions {
  /** Weights file for an architecture-only JSON (Keras to_json); found next to it by name otherwise. */
  weightsPath?: string;
}

export interface FormatModule {
  name: FormatName;
  /** Cheap check on the path and the first bytes (at least 512 of them, fewer for a short file). */
  detect(path: string, head: Uint8Array): boolean;
  /**
   * bytes -> ModelGraph, or throw LensError. Nodes in topological order, channels-last params and
   * weights, every layer's kind and params filled; outputShape may be left [] and padding.pads empty:
   * shape inference fills them. Check declared sizes before allocating; never execute code from the file.
   */
  load(path: string, opts: LoadOptions): Promise<ModelGraph>;
}

/** The first bytes of a file as text, for the JSON formats' detection (at most 4 KiB). */
export function headText(head: Uint8Array): string {
  return new TextDecoder().decode(head.subarray(0, Math.min(head.length, 4096)));
}
