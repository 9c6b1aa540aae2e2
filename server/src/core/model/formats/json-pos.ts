/**
 * A small JSON parser that remembers where each object and array sits in the text, so that loaders
 * can point diagnostics at a layer's entry in a model.json. Accepts Python's NaN/Infinity (json.dumps
 * writes them); everything else is strict JSON. Errors are LensError('BAD_JSON') with line and column.
 */
import { LensError } from '../../errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface ParsedJson {
  value: JsonValue;
  /** [start, end) character offsets of an object or array that came out of this parse. */
  rangeOf(v: unknown): [number, number] | undefined;
}

/** Nesting deeper than this is refused (a hostile file could otherwise overflow the stack). */
const MAX_DEPTH = 512;

export function parseJsonWithRanges(text: string, file?: string): ParsedJson {
  const ranges = new WeakMap<object, [number, number]>();
  let i = 0;

  const fail = (msg: string, at = i): never => {
    let line = 1;
    let col = 1;
    for (let k = 0; k < at && k < text.length; k++) {
      if (text.charCodeAt(k) === 10) {
        line++;
        col = 1;
      } else col++;
    }
    throw new LensError('BAD_JSON', `invalid JSON at line ${line}, column ${col}: ${msg}`, { file });
  };

  const ws = (): void => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };

  const parseString = (): string => {
    // text[i] === '"'
    i++;
    let out = '';
    let start = i;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
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

  const parseValue = (depth: number): JsonValue => {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      const start = i;
      i++;
      const obj: { [key: string]: JsonValue } = {};
      ws();
      if (text[i] === '}') {
        i++;
      } else {
        for (;;) {
          ws();
          if (text[i] !== '"') fail('expected a property name');
          const key = parseString();
          ws();
          if (text[i] !== ':') fail("expected ':'");
          i++;
          const v = parseValue(depth + 1);
          // defineProperty: a key named __proto__ stays a plain data property.
          Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
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
      return obj;
    }
    if (c === '[') {
      const start = i;
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
      } else {
        for (;;) {
          arr.push(parseValue(depth + 1));
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
      return arr;
    }
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
    if (text.startsWith('NaN', i)) {
      i += 3;
      return NaN;
    }
    if (text.startsWith('Infinity', i)) {
      i += 8;
      return Infinity;
    }
    if (text.startsWith('-Infinity', i)) {
      i += 9;
      return -Infinity;
    }
    NUM.lastIndex = i;
    const m = NUM.exec(text);
    if (m && m[0].length > 0) {
      i += m[0].length;
      return Number(m[0]);
    }
    return fail(i >= text.length ? 'unexpected end of text' : `unexpected character ${JSON.stringify(c)}`);
  };

  // A byte-order mark is not JSON but editors write it.
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  const value = parseValue(0);
  ws();
  if (i < text.length) fail('unexpected text after the end');
  return {
    value,
    rangeOf: (v) => (v !== null && typeof v === 'object' ? ranges.get(v as object) : undefined),
  };
}

/** Parse without positions (configs stored inside HDF5 attributes). */
export function parseJson(text: string, file?: string): JsonValue {
  return parseJsonWithRanges(text, file).value;
}
