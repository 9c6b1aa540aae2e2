/**
 * The vocabularies of names.ts are the only lists: the files that cannot import them (package.json's
 * setting enums, the lrp-lens.json schema, the panel's HTML) must list exactly the same names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../testing/paths.js';
import { BACKEND_NAMES, BASELINE_NAMES, COMPOSITE_NAMES, RULE_FAMILIES, isBackendName, isBaselineName, isCompositeName } from './names.js';
import { parseRule } from './lrp/rules.js';

const readJson = (...path: string[]) => JSON.parse(readFileSync(join(REPO, ...path), 'utf8'));

test("package.json's lrpLens.composite and lrpLens.backend enums equal COMPOSITE_NAMES and BACKEND_NAMES", () => {
  const props = readJson('package.json').contributes.configuration.properties;
  assert.deepEqual(props['lrpLens.composite'].enum, [...COMPOSITE_NAMES]);
  assert.ok(isCompositeName(props['lrpLens.composite'].default), props['lrpLens.composite'].default);
  assert.deepEqual(props['lrpLens.backend'].enum, [...BACKEND_NAMES]);
  assert.equal(props['lrpLens.backend'].enumDescriptions.length, BACKEND_NAMES.length, 'one description per backend');
  assert.ok(isBackendName(props['lrpLens.backend'].default), props['lrpLens.backend'].default);
});

test("the lrp-lens.json schema's explain.composite enum equals COMPOSITE_NAMES", () => {
  const schema = readJson('schemas', 'lrp-lens.schema.json');
  assert.deepEqual(schema.definitions.model.properties.explain.properties.composite.enum, [...COMPOSITE_NAMES]);
});

test("the panel's comparison picker offers exactly the BASELINE_NAMES besides its own kinds", () => {
  const html = readFileSync(join(REPO, 'webview', 'panel.html'), 'utf8');
  const select = /<vscode-single-select id="compareKind"[^>]*>([\s\S]*?)<\/vscode-single-select>/.exec(html);
  assert.ok(select, 'panel.html has the compareKind select');
  const values = [...select[1].matchAll(/<vscode-option value="([^"]+)"/g)].map((m) => m[1]);
  // The non-baseline kinds are the panel's own (webview/src/messages.ts CompareKind).
  assert.deepEqual(values.filter((v) => !['composite', 'randomized', 'blank', 'class'].includes(v)), [...BASELINE_NAMES]);
});

test("the README's list of composites and baselines names exactly COMPOSITE_NAMES and BASELINE_NAMES", () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const para = /\nComposites: ([\s\S]*?) Rules:/.exec(readme);
  assert.ok(para, 'README has the Composites: paragraph');
  const named = [...para[1].matchAll(/`([^`]+)`/g)].map((m) => m[1]).filter((n) => !n.startsWith('--'));
  assert.deepEqual(named, [...COMPOSITE_NAMES, ...BASELINE_NAMES]);
});

test('the vocabularies are disjoint where one request field carries both, and refuse prototype names', () => {
  // ExplainParams.composite.name is a composite or a baseline: no name may be both.
  assert.deepEqual(COMPOSITE_NAMES.filter((n) => isBaselineName(n)), []);
  for (const list of [COMPOSITE_NAMES, BACKEND_NAMES, BASELINE_NAMES, RULE_FAMILIES]) assert.equal(new Set(list).size, list.length);
  for (const bad of ['constructor', '__proto__', 'toString', '', undefined, 3]) {
    assert.equal(isCompositeName(bad) || isBackendName(bad) || isBaselineName(bad), false, String(bad));
  }
});

test('every rule carries its family, whatever its spelling or parameters (no family recovered from a display name)', () => {
  // Expected families from the rule definitions (Zennit: ZPlus is AlphaBeta(1, 0); Montavon's gamma and
  // Zennit's generalized gamma are one family; epsilon-rms is epsilon with a scaled stabilizer).
  const cases: [string, string][] = [
    ['lrp0', 'lrp0'], ['z', 'lrp0'],
    ['epsilon:0.25', 'epsilon'], ['eps', 'epsilon'], ['epsilon-rms:0.1', 'epsilon'], ['epsilon-nobias:0.01', 'epsilon'],
    ['gamma:0.5', 'gamma'], ['gamma-classic:0.5', 'gamma'], ['gamma-nobias:0.3', 'gamma'],
    ['alpha-beta:2:1', 'alpha-beta'], ['alpha2-beta1', 'alpha-beta'], ['alpha-beta:1:1', 'alpha-beta'], ['alpha-beta:2:0', 'alpha-beta'],
    ['alpha-beta:1:0', 'zplus'], ['alpha1-beta0', 'zplus'], ['zplus', 'zplus'], ['z+', 'zplus'], ['zplus-nobias', 'zplus'],
    ['zbox:-2:3', 'zbox'], ['zb', 'zbox'],
    ['w-square', 'w-square'], ['w2', 'w-square'],
    ['flat', 'flat'], ['pass', 'pass'], ['gradient', 'gradient'], ['norm', 'norm'], ['proportional:0.1', 'norm'], ['split', 'split'],
  ];
  for (const [spec, family] of cases) assert.equal(parseRule(spec).family, family, spec);
  // Every family but the recurrent one (rules of recurrent layers, not picked by a spec here) is reachable.
  assert.deepEqual(new Set(cases.map((c) => c[1])), new Set(RULE_FAMILIES.filter((f) => f !== 'recurrent')));
});
