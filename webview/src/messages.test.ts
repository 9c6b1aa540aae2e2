import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_STATE, decodeBytes, decodeFloat32, encodeFloat32, parseToHost, parseToWebview } from './messages.js';
import { loadReference } from '../../server/src/testing/sst-fixtures.js';

test('float32 arrays survive the base64 transport exactly', () => {
  const ref = loadReference();
  const rel = ref.relevance['epsilon_gamma_box'];
  const enc = encodeFloat32(rel, [ref.n, ref.height, ref.width, 1]);
  assert.deepEqual(decodeFloat32(enc), rel);
});

test('base64 decoding matches Node for every padding length', () => {
  for (let len = 0; len < 40; len++) {
    const bytes = Uint8Array.from({ length: len }, (_, i) => (i * 97 + len * 31) & 255);
    assert.deepEqual(decodeBytes(Buffer.from(bytes).toString('base64')), bytes);
  }
});

test('the host accepts well-formed panel messages and rejects the rest', () => {
  const arr = encodeFloat32(new Float32Array([1, 2, 3]), [3]);
  assert.ok(parseToHost({ type: 'ready', state: DEFAULT_STATE }));
  assert.ok(parseToHost({ type: 'explain', requestId: 'r1', purpose: 'main', params: { model: '/m.h5', composite: { name: 'epsilon', params: { epsilon: 1e-6 } }, target: 2, samples: { indices: [0, 1] } } }));
  assert.ok(parseToHost({ type: 'exportNpy', array: arr, name: 'r.npy' }));
  assert.ok(parseToHost({ type: 'openDocs', url: 'file:///repo/docs/findings/LRP101.md' }));
  const bad: unknown[] = [
    null, 'explain', { type: 'nope' },
    { type: 'explain', requestId: 'r1', purpose: 'main', params: { model: 5 } },
    { type: 'explain', requestId: 'r1', purpose: 'main', params: { model: '/m', target: -1 } },
    { type: 'explain', requestId: 'r1', purpose: 'other', params: { model: '/m' } },
    { type: 'explain', requestId: 'r1', purpose: 'main', params: { model: '/m', composite: { name: 'e', params: { epsilon: 'x' } } } },
    { type: 'exportNpy', array: { ...arr, shape: [4] }, name: 'r.npy' }, // size does not match the bytes
    { type: 'exportNpy', array: { ...arr, dtype: 'float64' }, name: 'r.npy' },
    { type: 'openDocs', url: 'command:workbench.action.terminal.new' }, // no command URIs
    { type: 'setBackend', backend: 'wasm; rm -rf' },
    { type: 'exportPng', view: { title: 't', panels: [], height: 1, width: 1, limits: { vmin: -1, vmax: 1 }, colorbarLabel: 'x', opacity: 1 } },
    { type: 'saveState', state: { ...DEFAULT_STATE, view: 'grid' } },
  ];
  for (const m of bad) assert.equal(parseToHost(m), undefined, JSON.stringify(m));
});

test('the page accepts results only with consistent arrays', () => {
  const rel = encodeFloat32(new Float32Array(6), [1, 2, 3]);
  const result = { relevance: rel, target: [0], samples: [0], conservation: { outputRelevance: [1], inputRelevance: [1], relativeError: [0], maxRelativeError: 0 } };
  assert.ok(parseToWebview({ type: 'result', requestId: 'a', purpose: 'main', result }));
  assert.equal(parseToWebview({ type: 'result', requestId: 'a', purpose: 'main', result: { ...result, relevance: { ...rel, base64: 'AAAA' } } }), undefined);
  assert.equal(parseToWebview({ type: 'result', requestId: 'a', purpose: 'main', result: { ...result, coords: { lat: ['x'], lon: [] } } }), undefined);
  assert.equal(parseToWebview({ type: 'init', models: 'x', backends: [], composites: [] }), undefined);
});

test('the PNG fallback: the host takes only PNG bytes from the page; the page takes the host\'s request', async () => {
  const sharp = (await import('sharp')).default;
  const png = (await sharp({ create: { width: 2, height: 2, channels: 3, background: { r: 200, g: 0, b: 0 } } }).png().toBuffer()).toString('base64');
  assert.ok(parseToHost({ type: 'savePng', name: 'sample-0.png', base64: png }));
  const jpeg = (await sharp({ create: { width: 2, height: 2, channels: 3, background: { r: 200, g: 0, b: 0 } } }).jpeg().toBuffer()).toString('base64');
  assert.equal(parseToHost({ type: 'savePng', name: 'x.png', base64: jpeg }), undefined, 'not a PNG');
  assert.equal(parseToHost({ type: 'savePng', name: 'x.png', base64: 'iVBORw0KGgo<script>' }), undefined, 'not base64');
  assert.equal(parseToHost({ type: 'savePng', name: 5, base64: png }), undefined);
  assert.ok(parseToWebview({ type: 'renderPngLocally', name: 'sample-0.png' }));
  const { isBackendUnavailable, pngBytes } = await import('../../client/src/panel-export.js');
  // As vscode-languageclient rejects a request the server answered with LensError BACKEND_UNAVAILABLE.
  assert.equal(isBackendUnavailable({ code: -32603, message: 'PNG export needs the sharp package', data: { code: 'BACKEND_UNAVAILABLE' } }), true);
  assert.equal(isBackendUnavailable({ code: -32603, message: 'boom', data: { code: 'BAD_INPUT' } }), false);
  assert.deepEqual(Buffer.from(pngBytes(png)), Buffer.from(png, 'base64'));
  assert.throws(() => pngBytes(jpeg), /not a PNG/);
});

test('results with geographic fields are validated', () => {
  const arr = encodeFloat32(new Float32Array([1, 2, 3, 4]), [1, 4]);
  const base = { relevance: arr, target: [0], samples: [0], conservation: {} };
  const ok = { ...base, grid: { shape: [2, 2], layout: 'HW' }, wrapLon: 1, times: ['2000-01-01'], labels: [1], classNames: ['a', 'b'] };
  assert.ok(parseToWebview({ type: 'result', requestId: 'ext-1', purpose: 'main', result: ok }));
  for (const bad of [{ grid: { shape: [4], layout: 'HW' } }, { grid: { shape: [2, 2], layout: 'XY' } }, { wrapLon: -1 }, { times: [1] }, { labels: ['x'] }]) {
    assert.equal(parseToWebview({ type: 'result', requestId: 'ext-1', purpose: 'main', result: { ...ok, ...bad } }), undefined, JSON.stringify(bad));
  }
});
