import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Diagnostic } from 'vscode-languageserver';
import { codeActionsFor, compositeEdit, SET_COMPOSITE_COMMAND } from './code-actions.js';
import { locateJson } from './json-paths.js';
import { DEFAULT_SETTINGS } from '../protocol.js';
import { scratchDir } from '../testing/paths.js';

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
  const dir = scratchDir('lsp-code-actions');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'cnn'), { recursive: true });
  const modelUri = pathToFileURL(join(dir, 'cnn', 'model.h5')).href;
  const d: Diagnostic = { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, message: 'z+ chain', source: 'lrp-lens', code: 'LRP112' };
  const other: Diagnostic = { ...d, code: 'LRP101' };
  const noProject = codeActionsFor(modelUri, [d, other], { roots: [dir], settings: DEFAULT_SETTINGS });
  assert.equal(noProject.length, 1);
  assert.equal(noProject[0].command?.command, SET_COMPOSITE_COMMAND);
  assert.deepEqual(noProject[0].command?.arguments, ['epsilon-gamma-box']);

  writeFileSync(join(dir, 'lrp-lens.json'), PROJECT(', "explain": { "composite": "epsilon-plus" }'));
  const withProject = codeActionsFor(modelUri, [d], { roots: [dir], settings: DEFAULT_SETTINGS });
  assert.equal(withProject.length, 1);
  const edits = withProject[0].edit!.changes![pathToFileURL(join(dir, 'lrp-lens.json')).href];
  assert.equal(edits[0].newText, '"epsilon-gamma-box"');
});
