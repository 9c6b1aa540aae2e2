/** The model viewer's page: "Add data for this model..." first without an lrp-lens.json entry, "Explain this model..." alone with one; escaped, one nonce script. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelPage } from './model-page.js';
import type { ModelSummary } from '../../server/src/protocol.js';

const summary: ModelSummary = {
  uri: 'file:///ws/models/cnn/model.h5',
  file: '/ws/models/cnn/model.h5',
  name: 'sequential',
  state: 'ok',
  format: { name: 'keras-h5', version: '2.15' },
  inputs: [{ name: 'input_1', shape: [null, 24, 72, 1], layout: 'NHWC' }],
  outputs: [{ name: 'dense', shape: [null, 3], layout: 'NC' }],
  layers: [{ index: 0, name: 'conv2d', kind: 'Conv', className: 'Conv2D', inbound: [], detail: '8 3x3', outputShape: [null, 24, 72, 8], params: 80, activation: 'relu' }],
  totalParams: 80,
  findings: [],
};

const buttons = (html: string): string[] => [...html.matchAll(/<button id="(\w+)"[^>]*>([^<]*)<\/button>/g)].map((m) => `${m[1]}:${m[2]}`);

test('no lrp-lens.json entry: the viewer offers "Add data for this model…" first, and its click posts addData', () => {
  const html = modelPage(summary, 'models/cnn/model.h5', true);
  assert.deepEqual(buttons(html), ['addData:Add data for this model…', 'explain:Explain this model…']);
  assert.match(html, /getElementById\('addData'\)\?\.addEventListener\('click', \(\) => vscode\.postMessage\(\{ type: 'addData' \}\)\)/);
  assert.equal([...html.matchAll(/<script/g)].length, 1);
});

test('with an entry: "Explain this model…" alone, naming the entry (escaped); untrusted: the buttons are disabled', () => {
  const html = modelPage({ ...summary, dataEntry: 'cnn <sst>' }, 'models/cnn/model.h5', true);
  assert.deepEqual(buttons(html), ['explain:Explain this model…']);
  assert.ok(html.includes('entry "cnn &lt;sst&gt;"'));
  assert.ok(!html.includes('cnn <sst>'));
  assert.match(modelPage(summary, 'm.h5', false), /<button id="addData" disabled/);
  // Nothing to do before the analysis, nor on a model that did not load.
  assert.deepEqual(buttons(modelPage(undefined, 'm.h5', true)), []);
  assert.deepEqual(buttons(modelPage({ ...summary, state: 'error', error: { code: 'UNSUPPORTED_LAYER', message: 'x' } }, 'm.h5', true)), []);
});
