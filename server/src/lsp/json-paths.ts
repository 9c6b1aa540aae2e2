/**
 * Where each key and value sits in a JSON text, by path (["models", 0, "composite"]), so diagnostics
 * on lrp-lens.json can point at the offending key and code actions can replace a value in place.
 * Tolerant: stops at the first syntax error and returns what it found, plus the error's offset.
 */

export type JsonPath = (string | number)[];

export interface JsonLocation {
  path: JsonPath;
  /** [start, end) of the key string (absent for array elements and the root). */
  key?: [number, number];
  /** [start, end) of the value. */
  value: [number, number];
}

export interface JsonLocations {
  entries: JsonLocation[];
  /** Offset and message of the first syntax error, if any. */
  error?: { offset: number; message: string };
  find(path: JsonPath): JsonLocation | undefined;
}

export function locateJson(text: string): JsonLocations {
  const entries: JsonLocation[] = [];
  let i = 0;
  class Stop extends Error {}
  let error: JsonLocations['error'];
  const fail = (message: string): never => {
    error = { offset: Math.min(i, text.length), message };
    throw new Stop(message);
  };
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const str = (): string => {
    if (text[i] !== '"') fail('expected a string');
    const start = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('unterminated string');
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail('bad string escape');
    }
  };
  const value = (path: JsonPath, key?: [number, number], depth = 0): void => {
    if (depth > 256) fail('nesting too deep');
    ws();
    const start = i;
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') i++;
      else
        for (;;) {
          ws();
          const ks = i;
          const k = str();
          const kr: [number, number] = [ks, i];
          ws();
          if (text[i] !== ':') fail("expected ':'");
          i++;
          value([...path, k], kr, depth + 1);
          ws();
          if (text[i] === ',') i++;
          else if (text[i] === '}') {
            i++;
            break;
          } else fail("expected ',' or '}'");
        }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') i++;
      else
        for (let n = 0; ; n++) {
          value([...path, n], undefined, depth + 1);
          ws();
          if (text[i] === ',') i++;
          else if (text[i] === ']') {
            i++;
            break;
          } else fail("expected ',' or ']'");
        }
    } else if (c === '"') str();
    else {
      const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 64));
      if (!m) fail('unexpected character');
      i += m![0].length;
    }
    entries.push({ path, key, value: [start, i] });
  };
  try {
    value([]);
    ws();
    if (i < text.length) fail('unexpected text after the value');
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  }
  return {
    entries,
    error,
    find: (path) => entries.find((e) => e.path.length === path.length && e.path.every((p, k) => p === path[k])),
  };
}
