/** Small helpers every pipeline step uses: key paths into lrp-lens.json, file paths, selections. */
import { resolve } from 'node:path';
import type { JsonPath } from '../../json/located-json.js';
import type { ModelEntry } from '../project.js';
import { parseDimSelection, type Selection } from '../select.js';

/** The key path of a part of a model entry (for KeyedErrors). */
export const P = (e: ModelEntry, ...rest: JsonPath): JsonPath => ['models', e.index, ...rest];

/** A path of the entry, relative to the project file. */
export function abs(e: ModelEntry, p: string): string {
  return resolve(e.baseDir, p);
}

export function selectionOf(raw: Record<string, unknown> | undefined): Selection {
  const out: Selection = {};
  for (const [k, v] of Object.entries(raw ?? {})) out[k] = parseDimSelection(k, v);
  return out;
}
