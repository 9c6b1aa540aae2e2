/** The shared located JSON parser: the options each caller relies on. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LensError } from '../errors.js';
import { parseJson, parseLocatedJson, pathKey, type JsonSyntaxError } from './located-json.js';

const syntaxError = (f: () => unknown): JsonSyntaxError => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof LensError && e.code === 'BAD_JSON', String(e));
    return e as JsonSyntaxError;
  }
  return assert.fail('parsed, expected BAD_JSON');
};

test('locations: value and key ranges by path; none unless asked', () => {
  const text = '\ufeff{"models": [{"name": "a"}, 2.5e1], "x": null}';
  const p = parseLocatedJson(text, { locations: true });
  const name = p.locs.get(pathKey(['models', 0, 'name']))!;
  assert.equal(text.slice(...name.key!), '"name"');
  assert.equal(text.slice(...name.value), '"a"');
  assert.equal(text.slice(...p.locs.get(pathKey(['models', 1]))!.value), '2.5e1');
  assert.equal(p.locs.get(pathKey(['models', 1]))!.key, undefined);
  assert.equal(parseLocatedJson(text).locs.size, 0);
  assert.deepEqual(parseLocatedJson(text).value, JSON.parse(text.slice(1)));
});

test('NaN/Infinity only with nonFinite (Keras configs), not in strict JSON (lrp-lens.json)', () => {
  assert.ok(Number.isNaN((parseJson('[NaN]') as number[])[0]));
  assert.equal((parseJson('[-Infinity]') as number[])[0], -Infinity);
  const e = syntaxError(() => parseLocatedJson('{"a": NaN}', { locations: true }));
  assert.equal(e.offset, 6);
  assert.match(e.message, /line 1, column 7/);
});

test('errors carry the offset: unterminated string at its opening quote, depth limit, trailing text', () => {
  assert.equal(syntaxError(() => parseLocatedJson('{"a": "xyz')).offset, 6);
  assert.match(syntaxError(() => parseLocatedJson('[[[1]]]', { maxDepth: 2 })).reason, /nesting too deep/);
  assert.equal(syntaxError(() => parseLocatedJson('{} x')).offset, 3);
  assert.equal(syntaxError(() => parseLocatedJson('[01]')).offset, 2);
});

test('onLocation sees what came before a syntax error', () => {
  const seen: string[] = [];
  syntaxError(() => parseLocatedJson('{"a": 1, "b": [true, }', { onLocation: (l) => seen.push(pathKey(l.path)) }));
  assert.deepEqual(seen, [pathKey(['a']), pathKey(['b', 0])]);
});
