import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_STATE } from '../../webview/src/messages.js';
import { REPO } from '../../server/src/testing/paths.js';
import { REMEDIES } from '../../server/src/lsp/code-action-table.js';
import { PANEL_TABS, focusState, parseExplainOptions, parsePanelFocus } from './panel-focus.js';

test('the tab names follow the tabs of the panel page, in order', () => {
  const html = readFileSync(join(REPO, 'webview', 'panel.html'), 'utf8');
  const headers = [...html.matchAll(/<vscode-tab-header[^>]*>([^<]+)<\/vscode-tab-header>/g)].map((m) => m[1].trim().toLowerCase().replace(/\s+/g, ''));
  assert.deepEqual(headers, [...PANEL_TABS]);
});

test('every view the server\'s code actions ask for is accepted by the client and lands in the panel state', () => {
  const model = 'file:///w/cnn/model.json';
  let views = 0;
  for (const [code, remedies] of Object.entries(REMEDIES)) {
    for (const r of remedies) {
      if (r.kind !== 'view') continue;
      views++;
      const f = parsePanelFocus(JSON.parse(JSON.stringify({ model, ...r.focus })));
      assert.ok(f, `${code}: ${r.title}`);
      const s = focusState({ ...DEFAULT_STATE, overlays: { border: false, stride: false, mask: false } }, f!);
      assert.equal(s.model, model);
      if (r.focus.tab) assert.equal(PANEL_TABS[s.tab], r.focus.tab, code);
      for (const [k, v] of Object.entries(r.focus.overlays ?? {})) assert.equal(s.overlays[k as 'border'], v, `${code} overlay ${k}`);
      if (r.focus.compare) assert.equal(s.compare.kind, r.focus.compare.kind, code);
      if (r.focus.compare?.composite) assert.equal(s.compare.composite, r.focus.compare.composite, code);
    }
  }
  assert.ok(views >= 10, `${views} view actions`);
});

test('a focus on another model drops the data and samples chosen for the previous one; the same model keeps them', () => {
  const base = { ...DEFAULT_STATE, model: 'file:///a.h5', data: '/d/x.npy', indices: [1, 2] };
  const other = focusState(base, { model: 'file:///b.h5', tab: 'compare', compare: { kind: 'randomized' } });
  assert.equal(other.data, undefined);
  assert.equal(other.indices, undefined);
  assert.equal(other.compare.composite, DEFAULT_STATE.compare.composite, 'the comparison composite is kept when none is given');
  const same = focusState(base, { model: 'file:///a.h5', overlays: { stride: true } });
  assert.equal(same.data, '/d/x.npy');
  assert.equal(same.overlays.stride, true);
  assert.equal(same.overlays.border, DEFAULT_STATE.overlays.border);
  assert.equal(base.overlays.stride, DEFAULT_STATE.overlays.stride, 'the base state is not changed');
});

test('malformed command arguments are refused whole', () => {
  for (const bad of [undefined, 'file:///a', { model: 3 }, { model: 'm', tab: 'nope' }, { model: 'm', overlays: { border: 'yes' } }, { model: 'm', compare: { kind: 'constructor' } },
    { model: 'm', compare: { kind: 'composite', composite: 'a b;rm' } }, { model: 'm', checkData: 1 }]) {
    assert.equal(parsePanelFocus(bad), undefined, JSON.stringify(bad));
  }
  assert.deepEqual(parseExplainOptions({ rules: 'kind:Recurrent=lstm-conservative' }), { rules: 'kind:Recurrent=lstm-conservative' });
  assert.deepEqual(parseExplainOptions({ composite: 'epsilon-gamma-box' }), { composite: 'epsilon-gamma-box' });
  assert.equal(parseExplainOptions({ rules: 'a\nb' }), undefined);
  assert.equal(parseExplainOptions({ composite: { x: 1 } }), undefined);
  assert.equal(parseExplainOptions(undefined), undefined);
});
