import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../../server/src/testing/paths.js';
import { contentSecurityPolicy, makeNonce, panelHtml } from './panel-html.js';
import { findingsCsv, npyBytes } from './panel-export.js';
import { readNpy } from '../../server/src/core/data/npy.js';
import { encodeFloat32 } from '../../webview/src/messages.js';

test('the panel page allows no remote content and only its own nonce script', () => {
  const nonce = makeNonce();
  assert.match(nonce, /^[A-Za-z0-9]{16,}$/);
  assert.notEqual(nonce, makeNonce());
  const html = panelHtml(readFileSync(join(REPO, 'webview', 'panel.html'), 'utf8'), {
    cspSource: 'https://x.vscode-resource.test', nonce, scriptUri: 'https://x.vscode-resource.test/panel.js', styleUri: 'https://x.vscode-resource.test/panel.css',
  });
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1];
  assert.ok(csp.includes("default-src 'none'"));
  assert.ok(csp.includes(`script-src 'nonce-${nonce}'`));
  assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval') && !csp.includes('*'));
  const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
  assert.equal(scripts.length, 1);
  assert.ok(scripts[0].includes(`nonce="${nonce}"`));
  assert.ok(!html.includes('{{'), 'every placeholder filled');
  assert.equal(contentSecurityPolicy('a', 'b').split('; ')[0], "default-src 'none'");
  assert.throws(() => panelHtml('', { cspSource: 'a', nonce: 'x" onload="', scriptUri: '', styleUri: '' }));
});

test('exports: relevance .npy reads back, findings CSV has one row per finding', () => {
  const data = Float32Array.from([0.5, -1.25, 3e-7, 0, 8, -0]);
  const npy = readNpy(npyBytes(encodeFloat32(data, [1, 2, 3])));
  assert.deepEqual(npy.shape, [1, 2, 3]);
  assert.deepEqual(npy.data, data);
  const csv = findingsCsv([{ code: 'LRP101', severity: 'warning', message: 'm', remedy: 'r', docs: 'd', file: '/f.h5' }, { code: 'LRP209', severity: 'information', message: 'x, y', remedy: 'r', docs: 'd', file: '/f.h5', data: { share: 0.1 } }]);
  assert.equal(csv.trim().split('\r\n').length, 3);
  assert.ok(csv.includes('"x, y"'));
});
