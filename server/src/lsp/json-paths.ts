/**
 * Where each key and value sits in a JSON text, by path (["models", 0, "composite"]), so diagnostics
 * on lrp-lens.json can point at the offending key and code actions can replace a value in place.
 * Tolerant: stops at the first syntax error and returns what it found, plus the error's offset.
 * The parsing itself is core/json/located-json.ts (the same parser that reads lrp-lens.json).
 */
import { parseLocatedJson, type JsonLocation, type JsonPath, type JsonSyntaxError } from '../core/json/located-json.js';
import { LensError } from '../core/errors.js';

export type { JsonLocation, JsonPath };

export interface JsonLocations {
  entries: JsonLocation[];
  /** Offset and message of the first syntax error, if any. */
  error?: { offset: number; message: string };
  find(path: JsonPath): JsonLocation | undefined;
}

export function locateJson(text: string): JsonLocations {
  const entries: JsonLocation[] = [];
  let error: JsonLocations['error'];
  try {
    parseLocatedJson(text, { maxDepth: 256, onLocation: (loc) => entries.push(loc) });
  } catch (e) {
    if (!(e instanceof LensError)) throw e;
    if (e.code === 'BAD_JSON') {
      const s = e as JsonSyntaxError;
      error = { offset: s.offset, message: s.reason };
    } else if (e.code === 'BUDGET_EXCEEDED') {
      // Too many keys to locate (the parser's location budget): keep what was found, no quick fixes past it.
      error = { offset: entries.length > 0 ? entries[entries.length - 1]!.value[1] : 0, message: e.message };
    } else throw e;
  }
  return {
    entries,
    error,
    find: (path) => entries.find((e) => e.path.length === path.length && e.path.every((p, k) => p === path[k])),
  };
}
