import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Diagnostic } from 'vscode-languageserver';
import { ADD_DATA_COMMAND, ADD_DATA_SOURCE_KIND, clientCommandFallback, codeActionsFor, compositeEdit, SET_COMPOSITE_COMMAND } from './code-actions.js';
import { locateJson } from './json-paths.js';
import { DEFAULT_SETTINGS, type ModelSummary } from '../protocol.js';
import { REAL, REPO, scratchDir } from '../testing/paths.js';
import { loadModel } from '../core/model/load.js';
import { runStaticChecks } from '../core/artifacts/catalogue.js';
import type { Finding } from '../core/artifacts/finding.js';
import { sequential } from '../core/artifacts/test-graphs.js';
import { useBackend } from '../core/backend.js';
import { findingSummary } from './analyzer.js';
import { modelDiagnostics } from './convert.js';
import { PAIRS, modelPath } from '../../../samples/benchmark/cases.js';
import { measure } from '../../../samples/benchmark/measure.js';
import { RECURRENT_PAIRS, measureRecurrent } from '../../../samples/benchmark/recurrent-cases.js';

const apply = (text: string, edit: { range: { start: { line: number; character: number }; end: { line: number; character: number } }; newText: string }) =>
  TextDocument.applyEdits(TextDocument.create('file:///x', 'json', 0, text), [edit]);

test('json-paths: keys and values by path; the first syntax error with its offset', () => {
  const text = '{"a": {"b": [1, {"c": "x"}]}, "d": true}';
  const loc = locateJson(text);
  assert.equal(loc.error, undefined);
  const c = loc.find(['a', 'b', 1, 'c'])!;
  assert.equal(text.slice(c.key![0], c.key![1]), '"c"');
  assert.equal(text.slice(c.value[0], c.value[1]), '"x"');
  const bad = locateJson('{"a": 1,, "b": 2}');
  assert.equal(bad.error?.offset, 8);
});

const PROJECT = (explain: string) => `{
  "version": 1,
  "models": [
    { "name": "other", "model": "other/*.h5", "data": { "file": "x.npy" } },
    { "name": "cnn", "model": "cnn/model.h5", "data": { "file": "x.npy" }${explain} }
  ]
}`;

test('the composite quick fix sets explain.composite of the model entry in lrp-lens.json', () => {
  const dir = scratchDir('lsp-code-actions');
  const project = join(dir, 'lrp-lens.json');
  const model = join(dir, 'cnn', 'model.h5');
  for (const explain of [', "explain": { "composite": "epsilon-plus", "target": "predicted" }', ', "explain": {}', ', "explain": { "target": 1 }', '']) {
    const text = PROJECT(explain);
    const r = compositeEdit(text, 'epsilon-gamma-box', project, model)!;
    assert.equal(r.entry, 'cnn');
    const out = JSON.parse(apply(text, r.edit));
    assert.equal(out.models[1].explain.composite, 'epsilon-gamma-box', explain);
    assert.equal(out.models[0].explain, undefined, 'the other entry is untouched');
  }
  assert.equal(compositeEdit(PROJECT(''), 'epsilon', project, join(dir, 'elsewhere.onnx')), undefined, 'no entry for this model');
  assert.equal(compositeEdit('{"x": ', 'epsilon', project, model), undefined, 'no edit on broken JSON');
});

test('code actions: a z+ chain finding offers the switch, in lrp-lens.json when it has the model, else the setting', () => {
  const dir = scratchDir('lsp-code-actions-switch');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'cnn'), { recursive: true });
  const modelUri = pathToFileURL(join(dir, 'cnn', 'model.h5')).href;
  const d: Diagnostic = { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, message: 'z+ chain', source: 'lrp-lens', code: 'LRP112' };
  const noProject = codeActionsFor(modelUri, [d], { roots: [dir], settings: DEFAULT_SETTINGS }).filter((a) => a.edit || a.command?.command === SET_COMPOSITE_COMMAND);
  assert.equal(noProject.length, 1);
  assert.deepEqual(noProject[0].command?.arguments, ['epsilon-gamma-box']);
  assert.equal(codeActionsFor(modelUri, [d], { roots: [dir], settings: { ...DEFAULT_SETTINGS, composite: 'epsilon-gamma-box' } }).filter((a) => a.command?.command === SET_COMPOSITE_COMMAND).length, 0, 'no switch to the composite in use');

  writeFileSync(join(dir, 'lrp-lens.json'), PROJECT(', "explain": { "composite": "epsilon-plus" }'));
  const withProject = codeActionsFor(modelUri, [d], { roots: [dir], settings: DEFAULT_SETTINGS }).filter((a) => a.edit);
  assert.equal(withProject.length, 1);
  const edits = withProject[0].edit!.changes![pathToFileURL(join(dir, 'lrp-lens.json')).href];
  assert.equal(edits[0].newText, '"epsilon-gamma-box"');
  // The entry's composite is the one in use: the setting does not count.
  assert.equal(codeActionsFor(modelUri, [d], { roots: [dir], settings: { ...DEFAULT_SETTINGS, composite: 'epsilon-gamma-box' } }).filter((a) => a.edit).length, 1);
});

// ---------------------------------------------------------------- every code with an action, on a model that raises it

interface Expected {
  command: string;
  arguments: unknown[];
}
type Case = { code: string; file: string; composite: string; findings: () => Promise<Finding[]>; expect: (uri: string) => Expected[] };

const view = (uri: string, focus: Record<string, unknown>): Expected => ({ command: 'lrpLens.showPanel', arguments: [{ model: uri, ...focus }] });
const setComposite = (name: string): Expected => ({ command: 'lrpLens.setComposite', arguments: [name] });
const explainWith = (uri: string, rules: string): Expected => ({ command: 'lrpLens.explainModel', arguments: [uri, { rules }] });
const border = { tab: 'sample', overlays: { border: true } };
const stride = { tab: 'sample', overlays: { stride: true } };
const meanMap = { tab: 'dataset' };
const conservation = { tab: 'conservation' };
const gxi = { tab: 'compare', compare: { kind: 'gradient-x-input' } };
const otherClass = { tab: 'compare', compare: { kind: 'class' } };
const randomized = { tab: 'compare', compare: { kind: 'randomized' } };
const twin = { tab: 'findings', checkData: true };

const bench = (v: string) => modelPath(v);
const staticOf = (file: string, composite = 'epsilon-plus') => async () => runStaticChecks(await loadModel(file), { composite });
/** The benchmark case that raises a map code: its positive, except LRP206 (not separated there; pad-same raises it). */
const mapCase = (code: string) => (code === 'LRP206' ? { variant: 'pad-same', composite: 'epsilon' } : PAIRS.find((p) => p.code === code)!.positive);
const mapOf = (code: string) => async () => {
  await useBackend('wasm');
  return (await measure(mapCase(code))).findings;
};

const MAP_EXPECTED: Record<string, (uri: string) => Expected[]> = {
  LRP201: (u) => [view(u, conservation)],
  LRP202: (u) => [view(u, twin), view(u, border)],
  LRP203: (u) => [view(u, stride)],
  LRP204: (u) => [view(u, twin), view(u, meanMap)],
  LRP205: () => [setComposite('epsilon-gamma-box')],
  LRP206: (u) => [setComposite('epsilon-gamma-box'), view(u, otherClass)],
  // Flat first layer from a rule map under epsilon: no composite to switch back to; the sanity comparison.
  LRP207: (u) => [view(u, randomized)],
  LRP208: (u) => [view(u, { tab: 'compare', compare: { kind: 'blank' } })],
  LRP209: (u) => [view(u, { tab: 'sample', overlays: { mask: true } })],
  // Under epsilon (no -flat variant in the catalogue): the flat first layer as a rule map.
  LRP210: (u) => [explainWith(u, 'first=flat'), view(u, { tab: 'compare', compare: { kind: 'composite', composite: 'epsilon-gamma-box' } }), view(u, randomized)],
  // LRP211: the layer comes from the finding (checked in the test).
  LRP211: () => [],
};

const CASES: Case[] = [
  { code: 'LRP101', file: bench('pad-same'), composite: 'epsilon-plus', findings: staticOf(bench('pad-same')), expect: (u) => [view(u, border)] },
  { code: 'LRP102', file: bench('stride2-k3'), composite: 'epsilon-plus', findings: staticOf(bench('stride2-k3')), expect: (u) => [view(u, stride)] },
  { code: 'LRP103', file: bench('pool-max'), composite: 'epsilon-plus', findings: staticOf(bench('pool-max')), expect: (u) => [view(u, meanMap)] },
  { code: 'LRP106', file: join(REAL, 'tfjs-abalone', 'model.json'), composite: 'epsilon-plus', findings: staticOf(join(REAL, 'tfjs-abalone', 'model.json')), expect: (u) => [view(u, gxi)] },
  { code: 'LRP107', file: bench('mlp-linear'), composite: 'epsilon-plus', findings: staticOf(bench('mlp-linear')), expect: (u) => [view(u, gxi)] },
  {
    code: 'LRP108', file: '/tmp/hand-built.json', composite: 'epsilon-plus', expect: (u) => [view(u, conservation)],
    // The catalogue test's graph: biases about 70 x the weight norms.
    findings: async () => runStaticChecks(sequential([4], [{ kind: 'Dense', units: 2, bias: 10 }, { kind: 'Dense', units: 2, act: 'linear' }])),
  },
  { code: 'LRP110', file: bench('mlp-relu'), composite: 'epsilon-plus', findings: staticOf(bench('mlp-relu')), expect: (u) => [view(u, meanMap)] },
  { code: 'LRP112', file: bench('deep-cnn'), composite: 'epsilon-plus', findings: staticOf(bench('deep-cnn')), expect: (u) => [setComposite('epsilon-gamma-box'), view(u, otherClass)] },
  {
    code: 'LRP116', file: join(REPO, 'samples', 'models', 'lstm_columns', 'model.json'), composite: 'epsilon-plus', expect: (u) => [view(u, gxi)],
    findings: staticOf(join(REPO, 'samples', 'models', 'lstm_columns', 'model.json')),
  },
  ...(['LRP201', 'LRP202', 'LRP203', 'LRP204', 'LRP205', 'LRP206', 'LRP207', 'LRP208', 'LRP209', 'LRP210', 'LRP211'] as const).map((code): Case => ({
    code, file: bench(mapCase(code).variant), composite: mapCase(code).composite, findings: mapOf(code), expect: MAP_EXPECTED[code],
  })),
  {
    code: 'LRP214', file: join(REPO, 'samples', 'benchmark', 'models', 'lstm-bias', 'model.json'), composite: 'epsilon',
    findings: async () => (await measureRecurrent(RECURRENT_PAIRS.find((p) => p.code === 'LRP214')!.positive, 1, 8)).findings,
    expect: (u) => [explainWith(u, 'kind:Recurrent=lstm-conservative')],
  },
];


/** Findings as the server publishes them (summaries, grouped diagnostics), then the actions on those of `code`. */
function actionsFor(c: Case, findings: Finding[], dir: string, composite = c.composite) {
  const uri = pathToFileURL(c.file).href;
  const isStatic = c.code < 'LRP200';
  const summary = { uri, file: c.file, name: 'm', state: 'ok', format: {}, inputs: [], outputs: [], layers: [], totalParams: 0, analysisMs: 0, findings: isStatic ? findings.map(findingSummary) : [] } as unknown as ModelSummary;
  const diags = modelDiagnostics(summary, { uri, docs: (l) => l }, [], isStatic ? [] : findings.map(findingSummary)).filter((d) => d.code === c.code);
  assert.ok(diags.length > 0, `${c.code} raised on ${c.file} (got ${[...new Set(findings.map((f) => f.code))].join(' ')})`);
  return { uri, actions: codeActionsFor(uri, diags, { roots: [dir], settings: { ...DEFAULT_SETTINGS, composite } }) };
}

test('every finding with an action gets it, with the command and arguments the client runs, on a model that raises it', { timeout: 600_000 }, async (t) => {
  const dir = scratchDir('lsp-code-actions-codes');
  rmSync(join(dir, 'lrp-lens.json'), { force: true });
  for (const c of CASES) {
    const findings = await c.findings();
    const { uri, actions } = actionsFor(c, findings, dir);
    const got = actions.filter((a) => a.command?.command !== ADD_DATA_COMMAND).map((a) => ({ command: a.command!.command, arguments: a.command!.arguments }));
    t.diagnostic(`${c.code}: ${actions.map((a) => a.title).join(' | ')}`);
    if (c.code === 'LRP211') {
      // The layer where relevance went bad comes from the finding.
      const layer = findings.find((f) => f.code === 'LRP211')!.layer?.name;
      assert.deepEqual(got, layer ? [explainWith(uri, `name:${layer}=epsilon:0.25`)] : [], c.code);
      continue;
    }
    assert.deepEqual(got, c.expect(uri), c.code);
    for (const a of actions) assert.equal(a.kind, 'quickfix');
  }
});

test('LRP207 under a -flat composite offers the composite without the flat first layer', async () => {
  const c: Case = { code: 'LRP207', file: bench('mlp-relu'), composite: 'epsilon-plus-flat', findings: mapOf('LRP207'), expect: () => [] };
  const { uri, actions } = actionsFor(c, await c.findings(), scratchDir('lsp-code-actions-codes'));
  const got = actions.filter((a) => a.command?.command !== ADD_DATA_COMMAND).map((a) => ({ command: a.command!.command, arguments: a.command!.arguments }));
  assert.deepEqual(got, [setComposite('epsilon-plus'), view(uri, randomized)]);
});

test('codes whose remedy changes the architecture or the training get no action (docs/language-server.md says why)', { timeout: 600_000 }, async () => {
  const dir = scratchDir('lsp-code-actions-codes');
  for (const [code, file] of [['LRP104', bench('bn-after')], ['LRP105', bench('mlp-relu')], ['LRP113', bench('pad-same')], ['LRP114', join(REPO, 'samples', 'models', 'lstm_columns', 'model.json')], ['LRP115', join(REPO, 'samples', 'models', 'lstm_columns', 'model.json')]] as const) {
    const c: Case = { code, file, composite: 'epsilon-plus', findings: staticOf(file), expect: () => [] };
    const { actions } = actionsFor(c, await c.findings(), dir);
    assert.deepEqual(actions.map((a) => a.command?.command), [ADD_DATA_COMMAND], `${code}: only "Add data"`);
  }
  // The recurrent map checks without an action, on the recurrent benchmark's positives (seed 1).
  for (const code of ['LRP212', 'LRP213', 'LRP215', 'LRP216']) {
    const pair = RECURRENT_PAIRS.find((p) => p.code === code)!;
    const c: Case = { code, file: join(dir, `${pair.positive.variant}.json`), composite: 'epsilon', findings: async () => (await measureRecurrent(pair.positive, 1, 8)).findings, expect: () => [] };
    const { actions } = actionsFor(c, await c.findings(), dir);
    assert.deepEqual(actions.map((a) => a.command?.command), [ADD_DATA_COMMAND], `${code}: only "Add data"`);
  }
});

test('"Add data for this model..." on a model without an lrp-lens.json entry: a quick fix on its diagnostics, a source action without', () => {
  const dir = scratchDir('lsp-code-actions-add-data');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'cnn'), { recursive: true });
  const uri = pathToFileURL(join(dir, 'cnn', 'model.h5')).href;
  const d: Diagnostic = { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, message: 'padding', source: 'lrp-lens', code: 'LRP101' };
  const ctx = { roots: [dir], settings: DEFAULT_SETTINGS };
  const fix = codeActionsFor(uri, [d], ctx).filter((a) => a.command?.command === ADD_DATA_COMMAND);
  assert.equal(fix.length, 1);
  assert.equal(fix[0].kind, 'quickfix');
  assert.deepEqual(fix[0].command!.arguments, [uri]);
  assert.deepEqual(fix[0].diagnostics, [d]);
  // A model with no finding: offered as a source action on the file, not without knowing it is a model.
  assert.deepEqual(codeActionsFor(uri, [], ctx), []);
  const src = codeActionsFor(uri, [], { ...ctx, isModel: true });
  assert.deepEqual(src.map((a) => [a.kind, a.command?.command, a.command?.arguments]), [[ADD_DATA_SOURCE_KIND, ADD_DATA_COMMAND, [uri]]]);
  assert.deepEqual(codeActionsFor(uri, [], { ...ctx, isModel: true, only: ['quickfix'] }), [], 'only quick fixes asked for');
  assert.equal(codeActionsFor(uri, [], { ...ctx, isModel: true, only: ['source'] }).length, 1);
  // Another model's entry does not count; the model's own does.
  writeFileSync(join(dir, 'lrp-lens.json'), PROJECT('').replace('"cnn/model.h5"', '"elsewhere/model.h5"'));
  assert.equal(codeActionsFor(uri, [d], ctx).filter((a) => a.command?.command === ADD_DATA_COMMAND).length, 1);
  writeFileSync(join(dir, 'lrp-lens.json'), PROJECT(''));
  assert.equal(codeActionsFor(uri, [d], ctx).filter((a) => a.command?.command === ADD_DATA_COMMAND).length, 0);
  assert.equal(codeActionsFor(uri, [], { ...ctx, isModel: true }).length, 0);
  rmSync(join(dir, 'lrp-lens.json'));
  // A model that did not load cannot be explained on any data.
  assert.deepEqual(codeActionsFor(uri, [{ ...d, code: 'LRP100' }], ctx), []);
  // Nor on the project file itself.
  assert.deepEqual(codeActionsFor(pathToFileURL(join(dir, 'lrp-lens.json')).href, [], { ...ctx, isModel: true }), []);
});

test('a client command sent back to the server (a plain LSP client) is answered with what to do instead', () => {
  assert.match(clientCommandFallback(ADD_DATA_COMMAND)!, /lrp-lens\.json/);
  assert.match(clientCommandFallback('lrpLens.showPanel')!, /lrp-lens explain/);
  assert.equal(clientCommandFallback('something.else'), undefined);
});
