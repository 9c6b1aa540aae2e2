/**
 * A JSON parser that remembers where each value and each property name sits in the text, so that a
 * problem found in the parsed value can be reported at the offending key (LSP diagnostics).
 */
import { LensError } from '../errors.js';

export type JsonPath = (string | number)[];

export interface JsonLoc {
  /** [start, end) of the value. */
  value: [number, number];
  /** [start, end) of the property name (with quotes) when the value is an object member. */
  key?: [number, number];
}

export interface LocatedJson {
  value: unknown;
  /** Keyed by JSON.stringify(path). */
  locs: Map<string, JsonLoc>;
}

export function pathKey(path: JsonPath): string {
  return JSON.stringify(path);
}

/** Parse; a syntax error is a BAD_JSON LensError whose message carries line:column, plus `offset`. */
export function parseLocated(text: string, file?: string): LocatedJson {
  const locs = new Map<string, JsonLoc>();
  let i = 0;
  const fail = (msg: string): never => {
    const before = text.slice(0, i);
    const line = before.split('\n').length;
    const col = i - before.lastIndexOf('\n');
    const e = new LensError('BAD_JSON', `${msg} at line ${line}, column ${col}`, { file });
    (e as LensError & { offset: number }).offset = i;
    throw e;
  };
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    let out = '';
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        const n = text[i + 1];
        if (n === 'u') {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
          continue;
        }
        const map: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (!(n in map)) fail('bad escape');
        out += map[n];
        i += 2;
        continue;
      }
      if (text.charCodeAt(i) < 0x20) fail('control character in string');
      out += text[i++];
    }
    if (i >= text.length) {
      i = start;
      fail('unterminated string');
    }
    i++;
    return out;
  };
  const value = (path: JsonPath, key?: [number, number]): unknown => {
    ws();
    const start = i;
    let v: unknown;
    const ch = text[i];
    if (ch === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') i++;
      else {
        for (;;) {
          ws();
          if (text[i] !== '"') fail('expected a property name in double quotes');
          const ks = i;
          const k = str();
          const kr: [number, number] = [ks, i];
          ws();
          if (text[i] !== ':') fail("expected ':'");
          i++;
          obj[k] = value([...path, k], kr);
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
      v = obj;
    } else if (ch === '[') {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === ']') i++;
      else {
        for (;;) {
          arr.push(value([...path, arr.length]));
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
      v = arr;
    } else if (ch === '"') v = str();
    else {
      const m = /^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 64));
      if (!m) fail(i >= text.length ? 'unexpected end of file' : `unexpected '${ch}'`);
      i += m![0].length;
      v = m![0] === 'true' ? true : m![0] === 'false' ? false : m![0] === 'null' ? null : Number(m![0]);
    }
    locs.set(pathKey(path), { value: [start, i], key });
    return v;
  };
  const v = value([]);
  ws();
  if (i < text.length) fail('unexpected text after the JSON value');
  return { value: v, locs };
}
