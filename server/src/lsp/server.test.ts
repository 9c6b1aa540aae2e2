/**
 * The language server driven over stdio by a plain JSON-RPC client (as any editor would): diagnostics
 * for a folder of real models, hover, a corrupt file added while it runs, explain with progress and
 * cancellation, and the checks against Zennit's reference relevance.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { REAL, REF, scratchDir } from '../testing/paths.js';
import { writeNpy } from '../core/data/npy.js';
import { toFloat32 } from '../core/array.js';
import type { ExplainResult, ListModelsResult } from '../protocol.js';
import { decodeArray } from '../protocol.js';
import { startClient, type TestClient } from '../testing/lsp-client.js';
import { readNpyFile } from '../testing/arrays.js';

const dir = scratchDir('lsp-protocol');
const uri = (rel: string) => pathToFileURL(join(dir, rel)).href;
let client: TestClient;

function copy(src: string, rel: string): void {
  mkdirSync(join(dir, rel, '..'), { recursive: true });
  copyFileSync(src, join(dir, rel));
  chmodSync(join(dir, rel), 0o644); // shared/ is read-only; the test edits some copies
}

before(async () => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  copy(join(REF, 'cnn_same', 'model.h5'), 'cnn/model.h5');
  copy(join(REF, 'cnn_same', 'tfjs', 'model.json'), 'cnn/tfjs/model.json');
  copy(join(REF, 'cnn_same', 'tfjs', 'group1-shard1of1.bin'), 'cnn/tfjs/group1-shard1of1.bin');
  copy(join(REF, 'mlp', 'model.onnx'), 'mlp/model.onnx');
  copy(join(REAL, 'sevir', 'MyFirstCNN.h5'), 'sevir/first.h5');
  copy(join(REAL, 'ninolearn-broken', 'member0.h5'), 'broken/member0.h5');
  copy(join(REAL, 'tfjs-graphmodel', 'model.json'), 'graph/model.json');
  copy(join(REAL, 'tfjs-graphmodel', 'group1-shard1of1.bin'), 'graph/group1-shard1of1.bin');
  copy(join(REAL, 'sevir', 'MyFirstNN.h5'), 'node_modules/pkg/skipped.h5');
  copy(join(REF, 'cnn_same', 'x_nhwc.npy'), 'data/x_nhwc.npy');
  // The reference's ZBox bounds (Zennit's default is -3..3; the reference files use their own).
  const conv = JSON.parse(readFileSync(join(REF, 'index.json'), 'utf8')).convention as { zbox_bounds: [number, number]; gamma: number };
  client = await startClient(dir, { initializationOptions: { settings: { compositeParams: { low: conv.zbox_bounds[0], high: conv.zbox_bounds[1], gamma: conv.gamma } } } });
});

after(async () => {
  await client?.close();
});

const MODELS = ['cnn/model.h5', 'cnn/tfjs/model.json', 'mlp/model.onnx', 'sevir/first.h5', 'broken/member0.h5', 'graph/model.json'];

test('initialize, then diagnostics for every model file in the folder (and none under node_modules)', async () => {
  await client.waitFor('diagnostics for all models', () => MODELS.every((m) => client.diagnostics.has(uri(m))));
  for (const m of MODELS) {
    for (const d of client.diagnostics.get(uri(m))!) {
      assert.equal(d.source, 'lrp-lens', m);
      assert.match(String(d.code), /^LRP\d{3}$/);
      assert.ok(d.codeDescription?.href.endsWith(`${d.code}.md`), `${m}: ${d.codeDescription?.href}`);
    }
  }
  assert.equal(client.diagnostics.has(uri('node_modules/pkg/skipped.h5')), false);
});

test('a model that does not load gives one LRP100 diagnostic with the structured error', async () => {
  await client.waitFor('broken model', () => client.diagnostics.get(uri('broken/member0.h5')));
  const broken = client.diagnostics.get(uri('broken/member0.h5'))!;
  assert.equal(broken.length, 1);
  assert.equal(broken[0].code, 'LRP100');
  assert.equal(broken[0].severity, 1);
  assert.equal(broken[0].data?.error?.code, 'MISSING_WEIGHTS');
  // A TF.js graph model has no layers to explain: refused clearly, also as LRP100.
  const graph = client.diagnostics.get(uri('graph/model.json'))!;
  assert.deepEqual(graph.map((d) => d.code), ['LRP100']);
  // The models that load have no LRP100.
  for (const m of ['cnn/model.h5', 'cnn/tfjs/model.json', 'sevir/first.h5']) {
    assert.ok(!client.diagnostics.get(uri(m))!.some((d) => d.code === 'LRP100'), `${m}: ${JSON.stringify(client.diagnostics.get(uri(m)))}`);
  }
});

test('diagnostics on a TF.js model.json point at the layer entry and name the layer', async () => {
  const text = readFileSync(join(dir, 'cnn/tfjs/model.json'), 'utf8');
  const doc = TextDocument.create(uri('cnn/tfjs/model.json'), 'json', 0, text);
  const diags = client.diagnostics.get(uri('cnn/tfjs/model.json'))!;
  const layered = diags.filter((d) => d.relatedInformation?.length);
  assert.ok(layered.length > 0, `expected findings about layers, got ${JSON.stringify(diags.map((d) => d.code))}`);
  for (const d of layered) {
    const at = doc.offsetAt(d.range.start);
    assert.equal(text[at], '{', `${d.code} starts at a JSON object`);
    const name = /layer '([^']+)'/.exec(d.relatedInformation![0].message)![1];
    // The entry it points at is the named layer's config.
    const entry = text.slice(at, at + 4000);
    assert.ok(entry.includes(`"name": "${name}"`) || entry.includes(`"name":"${name}"`), `${d.code} at ${at} is not layer ${name}`);
  }
  // Binary files: at the start of the file.
  for (const d of client.diagnostics.get(uri('cnn/model.h5'))!) assert.deepEqual(d.range.start, { line: 0, character: 0 });
});

test('listModels gives each model with its summary', async () => {
  const r = (await client.conn.sendRequest('lrpLens/listModels', {})) as ListModelsResult;
  const byRel = new Map(r.models.map((m) => [m.uri, m]));
  for (const m of MODELS) assert.ok(byRel.has(uri(m)), m);
  const cnn = byRel.get(uri('cnn/model.h5'))!;
  assert.equal(cnn.state, 'ok');
  assert.deepEqual(cnn.inputs[0].shape.slice(1), [16, 32, 1]);
  assert.ok(cnn.layers.some((l) => l.kind === 'Conv'));
  assert.equal(byRel.get(uri('broken/member0.h5'))!.state, 'error');
});

test('hover on a layer in model.json shows its summary', async () => {
  const text = readFileSync(join(dir, 'cnn/tfjs/model.json'), 'utf8');
  const doc = TextDocument.create(uri('cnn/tfjs/model.json'), 'json', 0, text);
  const at = text.indexOf('"Conv2D"');
  assert.ok(at > 0);
  const h = (await client.conn.sendRequest('textDocument/hover', { textDocument: { uri: uri('cnn/tfjs/model.json') }, position: doc.positionAt(at + 2) })) as {
    contents: { value: string };
  } | null;
  assert.ok(h, 'a hover');
  assert.match(h.contents.value, /Conv2D/);
  assert.match(h.contents.value, /output \| \(None, \d+, \d+, \d+\)/);
  // Outside any layer: no hover.
  const none = await client.conn.sendRequest('textDocument/hover', { textDocument: { uri: uri('cnn/tfjs/model.json') }, position: { line: 0, character: 0 } });
  assert.equal(none, null);
});

test('explain returns relevance matching Zennit, with $/progress and the conservation report', async () => {
  const token = 'explain-progress-1';
  const r = (await client.conn.sendRequest('lrpLens/explain', {
    model: uri('cnn/tfjs/model.json'),
    samples: { data: join(dir, 'data/x_nhwc.npy') },
    composite: 'epsilon-plus',
    workDoneToken: token,
  })) as ExplainResult;
  assert.deepEqual(r.relevance.shape, [8, 16, 32, 1]);
  const ref = toFloat32(readNpyFile(join(REF, 'cnn_same', 'relevance_epsilon_plus_nhwc.npy')));
  const got = decodeArray(r.relevance);
  const scale = Math.max(...ref.map(Math.abs));
  let maxDiff = 0;
  for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ref[i] - got[i]));
  assert.ok(maxDiff <= 1e-4 * scale, `max |R - R_ref| = ${maxDiff} (scale ${scale})`);
  const targets = readNpyFile(join(REF, 'cnn_same', 'target.npy'));
  assert.deepEqual(r.target, Array.from(targets.data, Number));
  assert.equal(r.conservation.inputRelevance.length, 8);
  // 'auto' runs LRP on ONNX Runtime where the model lowers (this CNN does), with nothing to fall back from.
  assert.equal(r.backend, 'onnxruntime');
  assert.equal(r.engineFallback, undefined);
  const kinds = client.progress.filter((p) => p.token === token).map((p) => p.value.kind);
  assert.equal(kinds[0], 'begin');
  assert.equal(kinds[kinds.length - 1], 'end');
  // The same request again is served from the cache.
  const again = (await client.conn.sendRequest('lrpLens/explain', { model: uri('cnn/tfjs/model.json'), samples: { data: join(dir, 'data/x_nhwc.npy') }, composite: 'epsilon-plus' })) as ExplainResult;
  assert.equal(again.cached, true);
  // After the explain, the hover on a layer shows its share of the relevance.
  const text = readFileSync(join(dir, 'cnn/tfjs/model.json'), 'utf8');
  const doc = TextDocument.create(uri('cnn/tfjs/model.json'), 'json', 0, text);
  const h = (await client.conn.sendRequest('textDocument/hover', {
    textDocument: { uri: uri('cnn/tfjs/model.json') },
    position: doc.positionAt(text.indexOf('"Conv2D"') + 2),
  })) as { contents: { value: string } };
  assert.match(h.contents.value, /relevance share \| -?\d+\.\d %/);
});

test('LRP vs gradient: explain runs the gradient baselines in place of a composite', async () => {
  const ask = (composite: string) => client.conn.sendRequest('lrpLens/explain', {
    model: uri('cnn/tfjs/model.json'), samples: { data: join(dir, 'data/x_nhwc.npy'), maxSamples: 2 }, composite, target: 1,
  }) as Promise<ExplainResult>;
  const g = await ask('gradient');
  const gx = await ask('gradient-x-input');
  assert.equal(g.composite.name, 'gradient');
  assert.deepEqual(g.target, [1, 1]);
  assert.deepEqual(g.relevance.shape, [2, 16, 32, 1]);
  // gradient x input is the gradient times the input, cell by cell.
  const a = decodeArray(g.relevance);
  const b = decodeArray(gx.relevance);
  const x = decodeArray(g.input!);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] * x[i] - b[i]) / Math.max(1e-6, Math.abs(b[i])));
  assert.ok(worst < 1e-4, `relative mismatch ${worst}`);
  assert.ok(a.some((v) => v !== 0), 'a gradient map that is not all zero');
});

test('explain honours $/cancelRequest and lrpLens/cancel, and the server keeps serving', async () => {
  // Many samples: long enough to cancel while it runs (ONNX Runtime explains this small CNN in well under
  // a millisecond per sample).
  const x = readNpyFile(join(REF, 'cnn_same', 'x_nhwc.npy'));
  const reps = 1024;
  const big = new Float32Array(x.data.length * reps);
  for (let k = 0; k < reps; k++) big.set(toFloat32(x), k * x.data.length);
  writeFileSync(join(dir, 'data/big.npy'), writeNpy(big, [x.shape[0] * reps, ...x.shape.slice(1)]));

  const source = new (await import('vscode-jsonrpc/node')).CancellationTokenSource();
  const token = 'explain-cancel-1';
  const pending = client.conn.sendRequest(
    'lrpLens/explain',
    { model: uri('cnn/model.h5'), samples: { data: join(dir, 'data/big.npy'), maxSamples: 100000 }, composite: 'epsilon', workDoneToken: token },
    source.token,
  );
  await client.waitFor('first progress report', () => client.progress.some((p) => p.token === token && p.value.kind === 'report' && (p.value.percentage ?? 0) > 0));
  source.cancel();
  await assert.rejects(pending, (e: { code?: number }) => e.code === -32800);

  const pending2 = client.conn.sendRequest('lrpLens/explain', {
    model: uri('cnn/model.h5'),
    samples: { data: join(dir, 'data/big.npy'), maxSamples: 100000 },
    composite: 'epsilon-gamma-box',
    jobId: 'job-2',
    workDoneToken: 'explain-cancel-2',
  });
  await client.waitFor('job-2 running', () => client.progress.some((p) => p.token === 'explain-cancel-2' && p.value.kind === 'report' && (p.value.percentage ?? 0) > 0));
  const c = (await client.conn.sendRequest('lrpLens/cancel', { jobId: 'job-2' })) as { cancelled: boolean };
  assert.equal(c.cancelled, true);
  await assert.rejects(pending2, (e: { code?: number; data?: { code: string } }) => e.code === -32800 && e.data?.code === 'CANCELLED');

  const r = (await client.conn.sendRequest('lrpLens/listModels', {})) as ListModelsResult;
  assert.ok(r.models.length >= MODELS.length);
});

test('checkData runs the relevance-map checks and publishes their findings on the model', async () => {
  const r = (await client.conn.sendRequest('lrpLens/checkData', { model: uri('cnn/model.h5'), samples: { data: join(dir, 'data/x_nhwc.npy') }, composite: 'epsilon-plus' })) as {
    findings: { code: string }[];
  };
  assert.ok(r.findings.length > 0, 'a same-padded CNN with max pooling has map findings');
  for (const f of r.findings) assert.match(f.code, /^LRP2\d\d$/);
  const published = await client.waitFor('map findings among the diagnostics', () => {
    const codes = (client.diagnostics.get(uri('cnn/model.h5')) ?? []).map((d) => d.code);
    return r.findings.every((f) => codes.includes(f.code)) ? codes : undefined;
  });
  assert.ok(published.some((c) => /^LRP1/.test(String(c))), 'static findings stay');
});

test('explain errors are structured: a missing data file, an untrusted workspace', async () => {
  await assert.rejects(
    client.conn.sendRequest('lrpLens/explain', { model: uri('cnn/model.h5'), samples: { data: join(dir, 'nope.npy') } }),
    (e: { data?: { code: string } }) => e.data?.code === 'FILE_NOT_FOUND',
  );
  await assert.rejects(client.conn.sendRequest('lrpLens/explain', { model: uri('cnn/model.h5') }), (e: { data?: { code: string } }) => e.data?.code === 'BAD_INPUT');

  // Untrusted workspace: static checks still publish, explain is refused.
  const untrusted = await startClient(dir, { initializationOptions: { trusted: false } });
  try {
    await untrusted.waitFor('diagnostics in the untrusted workspace', () => untrusted.diagnostics.get(uri('broken/member0.h5')));
    await assert.rejects(
      untrusted.conn.sendRequest('lrpLens/explain', { model: uri('cnn/model.h5'), samples: { data: join(dir, 'data/x_nhwc.npy') } }),
      (e: { message: string }) => /not trusted/.test(e.message),
    );
  } finally {
    await untrusted.close();
  }
});

test('lrp-lens.json problems are diagnostics at the offending key, updated as the file changes', async () => {
  const project = join(dir, 'lrp-lens.json');
  const text = JSON.stringify({ version: 1, models: [{ name: 'cnn', model: 'cnn/model.h5', data: { file: 'data/missing.nc' }, colour: 'red' }] }, null, 2);
  writeFileSync(project, text);
  const diags = await client.waitFor('project diagnostics', () => {
    const d = client.diagnostics.get(uri('lrp-lens.json'));
    return d && d.length >= 2 ? d : undefined;
  });
  const doc = TextDocument.create(uri('lrp-lens.json'), 'json', 0, text);
  const at = (d: { range: { start: { line: number; character: number }; end: { line: number; character: number } } }) => doc.getText(d.range);
  const missing = diags.find((d) => /missing\.nc/.test(d.message));
  assert.ok(missing, JSON.stringify(diags));
  assert.equal(at(missing!), '"file"');
  const unknown = diags.find((d) => /colour/.test(d.message));
  assert.ok(unknown, JSON.stringify(diags));
  assert.equal(at(unknown!), '"colour"');
  for (const d of diags) assert.equal(d.source, 'lrp-lens');
  // Fixed: the diagnostics go away.
  const fixed = { name: 'cnn', model: 'cnn/model.h5', data: { file: 'data/x_nhwc.npy' }, input: { sampleDim: 'dim_0' }, explain: { composite: 'epsilon-gamma-box' } };
  writeFileSync(project, JSON.stringify({ version: 1, models: [fixed] }, null, 2));
  await client.waitFor('project diagnostics cleared', () => client.diagnostics.get(uri('lrp-lens.json'))?.length === 0);

  // Explain without samples: the data and the composite come from the model's entry.
  const r = (await client.conn.sendRequest('lrpLens/explain', { model: uri('cnn/model.h5') })) as ExplainResult;
  assert.equal(r.composite.name, 'epsilon-gamma-box');
  const ref = toFloat32(readNpyFile(join(REF, 'cnn_same', 'relevance_epsilon_gamma_box_nhwc.npy')));
  const got = decodeArray(r.relevance);
  assert.equal(got.length, ref.length);
  const scale = Math.max(...ref.map(Math.abs));
  let maxDiff = 0;
  for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ref[i] - got[i]));
  assert.ok(maxDiff <= 1e-4 * scale, `max |R - R_ref| = ${maxDiff} (scale ${scale})`);
  rmSync(project);
});

test('a corrupt file added while the server runs gets LRP100; edits and deletes are followed', async () => {
  await client.waitFor('diagnostics for all models', () => MODELS.every((m) => client.diagnostics.has(uri(m))));
  const junk = Buffer.alloc(4096);
  Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]).copy(junk); // HDF5 signature, then garbage
  for (let i = 8; i < junk.length; i++) junk[i] = (i * 7919) & 0xff;
  writeFileSync(join(dir, 'corrupt.h5'), junk);
  await client.waitFor('LRP100 on corrupt.h5', () => client.diagnostics.get(uri('corrupt.h5'))?.some((d) => d.code === 'LRP100'));
  // The others are still served.
  const r = (await client.conn.sendRequest('lrpLens/listModels', {})) as ListModelsResult;
  assert.equal(r.models.find((m) => m.uri === uri('cnn/model.h5'))?.state, 'ok');

  // Replace a model by another: re-analyzed (its layer count changes).
  const before = r.models.find((m) => m.uri === uri('sevir/first.h5'))!.layers.length;
  cpSync(join(REAL, 'sevir', 'sub-sevir-cnn-class-1d.h5'), join(dir, 'sevir/first.h5'));
  const changed = await client.waitFor(
    'the new layer count',
    () => {
      void client.conn.sendRequest('lrpLens/listModels', {}).then((x) => (latest = x as ListModelsResult));
      const m = latest?.models.find((mm) => mm.uri === uri('sevir/first.h5'));
      return m && m.state === 'ok' && m.layers.length !== before ? m : undefined;
    },
    30_000,
  );
  assert.ok(changed.layers.length > before);

  rmSync(join(dir, 'corrupt.h5'));
  await client.waitFor('diagnostics cleared for a deleted file', () => client.diagnostics.get(uri('corrupt.h5'))?.length === 0);

  // A new folder with a model in it (copied in one go) is watched and analyzed.
  const fresh = join(scratchDir('lsp-protocol-src'), 'newdir');
  rmSync(fresh, { recursive: true, force: true });
  mkdirSync(join(fresh, 'deeper'), { recursive: true });
  copyFileSync(join(REAL, 'ninolearn-broken', 'member0.h5'), join(fresh, 'deeper', 'again.h5'));
  cpSync(fresh, join(dir, 'newdir'), { recursive: true });
  await client.waitFor('diagnostics for a model in a new folder', () => client.diagnostics.get(uri('newdir/deeper/again.h5'))?.some((d) => d.code === 'LRP100'));
});
let latest: ListModelsResult | undefined;
