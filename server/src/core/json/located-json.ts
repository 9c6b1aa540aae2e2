/**
 * The one JSON parser of LRP Lens that remembers where things sit in the text:
 * - `rangeOf(v)`: [start, end) of any object or array of the result (model.json layers -> diagnostics);
 * - with `locations`, every value and property name by path (lrp-lens.json problems -> the offending key,
 *   code actions -> replace a value in place).
 * Strict JSON plus a leading byte-order mark (editors write it); `nonFinite` also accepts Python's
 * NaN/Infinity/-Infinity (json.dumps writes them into Keras configs). Nesting is limited so that a hostile
 * file cannot overflow the stack. Errors are LensError('BAD_JSON') with line, column and `offset`.
 */
import { LensError } from '../errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type JsonPath = (string | number)[];

export interface JsonLocation {
  path: JsonPath;
  /** [start, end) of the property name (with quotes); absent for array elements and the root. */
  key?: [number, number];
  /** [start, end) of the value. */
  value: [number, number];
}

export interface LocatedJson {
  value: JsonValue;
  /** [start, end) character offsets of an object or array that came out of this parse. */
  rangeOf(v: unknown): [number, number] | undefined;
  /** Every value by pathKey(path), in the order the values end; empty unless `locations` was asked for. */
  locs: Map<string, JsonLocation>;
}

export interface JsonOptions {
  /** File named in errors. */
  file?: string;
  /** Accept NaN, Infinity and -Infinity as numbers. */
  nonFinite?: boolean;
  /** Nesting deeper than this is refused (default 512). */
  maxDepth?: number;
  /** Record every value's location by path (costs a path per value: off for large model files). */
  locations?: boolean;
  /** Called with each location as its value ends (tracks paths, but keeps no `locs` map unless `locations`); what came before an error stays seen. */
  onLocation?: (loc: JsonLocation) => void;
  /**
   * Most values whose location is tracked (default LOCATION_BUDGET). A location costs about 200 bytes
   * (its path, key and ranges) where its value may take 2 bytes of text ("0,"): without a bound, a
   * 15 MB file of small values costs gigabytes. Over it: BUDGET_EXCEEDED.
   */
  maxLocations?: number;
}

/** Default of `maxLocations`: about 50 MB of locations; lrp-lens.json has a few hundred values. */
export const LOCATION_BUDGET = 100_000;

/** A BAD_JSON error with the character offset it points at. */
export type JsonSyntaxError = LensError & { offset: number; reason: string };

export function pathKey(path: JsonPath): string {
  return JSON.stringify(path);
}

export function parseLocatedJson(text: string, opts: JsonOptions = {}): LocatedJson {
  const maxDepth = opts.maxDepth ?? 512;
  const track = opts.locations === true || opts.onLocation !== undefined;
  const keep = opts.locations === true;
  const maxLocations = opts.maxLocations ?? LOCATION_BUDGET;
  let located = 0;
  const ranges = new WeakMap<object, [number, number]>();
  const locs = new Map<string, JsonLocation>();
  let i = 0;

  const fail = (reason: string, at = i): never => {
    let line = 1;
    let col = 1;
    for (let k = 0; k < at && k < text.length; k++) {
      if (text.charCodeAt(k) === 10) {
        line++;
        col = 1;
      } else col++;
    }
    const e = new LensError('BAD_JSON', `invalid JSON at line ${line}, column ${col}: ${reason}`, { file: opts.file }) as JsonSyntaxError;
    e.offset = Math.min(at, text.length);
    e.reason = reason;
    throw e;
  };

  const ws = (): void => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };

  const parseString = (): string => {
    const open = i; // text[i] === '"'
    i++;
    let out = '';
    let start = i;
    for (;;) {
      // Point at the opening quote: that is where the user must look.
      if (i >= text.length) fail('unterminated string', open);
      const c = text.charCodeAt(i);
      if (c === 34) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c === 92) {
        out += text.slice(start, i);
        const e = text[i + 1];
        i += 2;
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            const hex = text.slice(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
            out += String.fromCharCode(parseInt(hex, 16));
            i += 4;
            break;
          }
          default:
            fail('bad escape', i - 1);
        }
        start = i;
        continue;
      }
      if (c < 32) fail('control character in string');
      i++;
    }
  };

  const NUM = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

  const scalar = (c: string): JsonValue => {
    if (c === '"') return parseString();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    if (opts.nonFinite) {
      for (const [word, v] of [['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity]] as const) {
        if (text.startsWith(word, i)) {
          i += word.length;
          return v;
        }
      }
    }
    NUM.lastIndex = i;
    const m = NUM.exec(text);
    if (m && m[0].length > 0) {
      i += m[0].length;
      return Number(m[0]);
    }
    return fail(i >= text.length ? 'unexpected end of text' : `unexpected character ${JSON.stringify(c)}`);
  };

  // `path` is null when locations are not tracked (no array per value).
  const parseValue = (depth: number, path: JsonPath | null, key?: [number, number]): JsonValue => {
    if (depth > maxDepth) fail('nesting too deep');
    ws();
    const start = i;
    const c = text[i];
    let v: JsonValue;
    if (c === '{') {
      i++;
      const obj: { [key: string]: JsonValue } = {};
      ws();
      if (text[i] === '}') i++;
      else {
        for (;;) {
          ws();
          if (text[i] !== '"') fail('expected a property name in double quotes');
          const ks = i;
          const k = parseString();
          const kr: [number, number] = [ks, i];
          ws();
          if (text[i] !== ':') fail("expected ':'");
          i++;
          const member = parseValue(depth + 1, path && [...path, k], kr);
          // defineProperty: a key named __proto__ stays a plain data property.
          Object.defineProperty(obj, k, { value: member, enumerable: true, writable: true, configurable: true });
          ws();
          if (text[i] === ',') {
            i++;
            continue;
          }
          if (text[i] === '}') {
            i++;
            break;
          }
          fail("expected ',' or '}'");
        }
      }
      ranges.set(obj, [start, i]);
      v = obj;
    } else if (c === '[') {
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text[i] === ']') i++;
      else {
        for (;;) {
          arr.push(parseValue(depth + 1, path && [...path, arr.length]));
          ws();
          if (text[i] === ',') {
            i++;
            continue;
          }
          if (text[i] === ']') {
            i++;
            break;
          }
          fail("expected ',' or ']'");
        }
      }
      ranges.set(arr, [start, i]);
      v = arr;
    } else v = scalar(c);
    if (path) {
      if (++located > maxLocations) {
        throw new LensError('BUDGET_EXCEEDED', `JSON with more than ${maxLocations} values to locate, over the json.locations budget of ${maxLocations}`, { file: opts.file });
      }
      const loc: JsonLocation = { path, key, value: [start, i] };
      if (keep) locs.set(pathKey(path), loc);
      opts.onLocation?.(loc);
    }
    return v;
  };

  if (text.charCodeAt(0) === 0xfeff) i = 1;
  const value = parseValue(0, track ? [] : null);
  ws();
  if (i < text.length) fail('unexpected text after the JSON value');
  return {
    value,
    rangeOf: (v) => (v !== null && typeof v === 'object' ? ranges.get(v as object) : undefined),
    locs,
  };
}

/** Parse a Keras/TF.js config (NaN and Infinity allowed) without positions. */
export function parseJson(text: string, file?: string): JsonValue {
  return parseLocatedJson(text, { file, nonFinite: true }).value;
}

/** Parse a Keras JSON / TF.js model.json (NaN and Infinity allowed) with object and array ranges. */
export function parseJsonWithRanges(text: string, file?: string): LocatedJson {
  return parseLocatedJson(text, { file, nonFinite: true });
}
