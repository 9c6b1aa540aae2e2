/**
 * Hostile input and hostile workspaces (issue 18, the language server's half), each replayed through a
 * real server over stdio: weight shards and models that are devices, FIFOs or symlinks; globs that
 * backtrack or leave the folder; untrusted workspaces and request paths outside the folder; stale
 * project validations; an oversized lrp-lens.json; wrong-typed settings and requests; malformed
 * message headers; a SavedModel folder as one model. Every case asserts a structured answer, then that
 * the next request is answered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REF, REPO, scratchDir } from '../testing/paths.js';
import type { ExplainResult, ListModelsResult } from '../protocol.js';
import { startClient, type TestClient } from '../testing/lsp-client.js';

const ROOT = scratchDir('lsp-hostile');
/** Longest a request may wait while the server works on hostile input (generous: a frozen server never answers). */
const ANSWER_MS = 5000;

function fresh(name: string): string {
  const dir = join(ROOT, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

function copy(src: string, dst: string): void {
  mkdirSync(join(dst, '..'), { recursive: true });
  copyFileSync(src, dst);
  chmodSync(dst, 0o644);
}

const uriOf = (p: string) => pathToFileURL(p).href;

/** listModels answered within ANSWER_MS; its wall time, for the log. */
async function responsive(c: TestClient, what: string): Promise<{ ms: number; models: ListModelsResult['models'] }> {
  const t0 = Date.now();
  const r = (await Promise.race([
    c.conn.sendRequest('lrpLens/listModels', {}),
    new Promise((_, fail) => setTimeout(() => fail(new Error(`${what}: listModels not answered within ${ANSWER_MS} ms`)), ANSWER_MS)),
  ])) as ListModelsResult;
  const ms = Date.now() - t0;
  console.log(`# ${what}: listModels answered in ${ms} ms`);
  return { ms, models: r.models };
}

async function rejectsWith(p: Promise<unknown>, code: string, match?: RegExp): Promise<void> {
  await assert.rejects(p, (e: { data?: { code: string; message: string }; message: string }) => {
    assert.equal(e.data?.code, code, e.message);
    if (match) assert.match(e.data!.message, match);
    return true;
  });
}

/** Peak resident memory the server process (workers are its threads) may reach on any hostile case. */
const SERVER_PEAK_MB = 1536;

/** The process's peak RSS (VmHWM) in MiB, from /proc. */
function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function withClient(dir: string, opts: Parameters<typeof startClient>[1], fn: (c: TestClient) => Promise<void>): Promise<void> {
  const c = await startClient(dir, opts);
  try {
    await fn(c);
    // The reported /dev/zero case grew the server to 3.5 GB: every case runs within a memory budget.
    const peak = peakRssMb(c.proc.pid!);
    console.log(`# ${dir}: server peak RSS ${peak.toFixed(0)} MiB`);
    assert.ok(peak < SERVER_PEAK_MB, `server peak RSS ${peak.toFixed(0)} MiB, over the ${SERVER_PEAK_MB} MiB budget`);
  } finally {
    await c.close();
  }
}

test('a weight shard or model that is /dev/zero, a FIFO or a symlink: a structured error, no spinning hash', async () => {
  const dir = fresh('devices');
  // The reported case: a TF.js model whose shard is a symlink into a device.
  copy(join(REF, 'cnn_same', 'tfjs', 'model.json'), join(dir, 'zero', 'model.json'));
  symlinkSync('/dev/zero', join(dir, 'zero', 'group1-shard1of1.bin'));
  // Variants: the shard is a FIFO; a model path is a symlink to /dev/zero (the scan does not follow it).
  copy(join(REF, 'cnn_same', 'tfjs', 'model.json'), join(dir, 'fifo', 'model.json'));
  execFileSync('mkfifo', [join(dir, 'fifo', 'group1-shard1of1.bin')]);
  symlinkSync('/dev/zero', join(dir, 'evil.h5'));
  copy(join(REF, 'cnn_same', 'model.h5'), join(dir, 'ok', 'model.h5'));
  await withClient(dir, {}, async (c) => {
    const t0 = Date.now();
    for (const m of ['zero/model.json', 'fifo/model.json']) {
      const diags = await c.waitFor(`diagnostics of ${m}`, () => c.diagnostics.get(uriOf(join(dir, m))), 60_000);
      const load = diags.find((d) => d.code === 'LRP100');
      assert.ok(load, `${m}: ${JSON.stringify(diags)}`);
      assert.notEqual(load.data?.error?.code, 'INTERNAL', load.message);
    }
    console.log(`# device and FIFO shards: diagnostics after ${Date.now() - t0} ms`);
    await c.waitFor('the good model', () => c.diagnostics.get(uriOf(join(dir, 'ok', 'model.h5'))));
    const { models } = await responsive(c, 'device shards');
    assert.ok(!models.some((m) => m.file.endsWith('evil.h5')), 'a symlink to a device is no model');
    assert.equal(models.find((m) => m.file.endsWith('ok/model.h5'))?.state, 'ok');
    // Asked for by path, the symlinked device is refused, not hashed.
    await rejectsWith(c.conn.sendRequest('lrpLens/reanalyze', { model: join(dir, 'evil.h5') }), 'BAD_INPUT');
    await responsive(c, 'after the device request');
  });
});

test('hostile globs and wrong-typed settings: linear matching, nothing outside the folder, defaults said', async () => {
  const dir = fresh('globs');
  copy(join(REF, 'cnn_same', 'model.h5'), join(dir, 'm.h5'));
  // A long name several folders deep that almost matches the pathological pattern.
  const deep = join(dir, ...Array(20).fill('a'));
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, 'a'.repeat(200)), 'x');
  const settings = {
    modelGlobs: ['**/'.repeat(30) + '*a*a*a*a*a*a*a*a*a*a*.h5', '../../../../**/*.h5', '**/*.h5'],
    workers: 'abc',
    memoryLimitMB: -5,
    backend: 42,
  };
  await withClient(dir, { initializationOptions: { settings } }, async (c) => {
    const m = await c.waitFor('m.h5 analyzed (so the pool has a worker)', () => c.diagnostics.get(uriOf(join(dir, 'm.h5'))), 60_000);
    assert.ok(!m.some((d) => d.code === 'LRP100'), JSON.stringify(m));
    const warning = await c.waitFor('a settings warning', () => c.logs.find((l) => /lrpLens\.workers/.test(l)));
    assert.match(warning, /using 1/);
    assert.ok(c.logs.some((l) => /lrpLens\.modelGlobs: '\.\.\/\.\.\/\.\.\/\.\.\/\*\*\/\*\.h5' leaves the workspace folder/.test(l)), c.logs.join('\n').slice(-2000));
    assert.ok(c.logs.some((l) => /lrpLens\.memoryLimitMB/.test(l)) && c.logs.some((l) => /lrpLens\.backend/.test(l)));
    const { models } = await responsive(c, 'hostile globs');
    assert.deepEqual(models.map((x) => x.file), [join(dir, 'm.h5')]);
  });
});

test('an untrusted workspace reads no data; request paths stay in the folder unless picked in a dialog', async () => {
  const dir = fresh('trust');
  const outside = fresh('trust-outside');
  copy(join(REF, 'cnn_same', 'model.h5'), join(dir, 'cnn', 'model.h5'));
  copy(join(REF, 'cnn_same', 'x_nhwc.npy'), join(outside, 'x.npy'));
  // Not a .npy at all: a reader that opens it says so.
  writeFileSync(join(outside, 'bad.npy'), 'this is not an array');
  const project = { version: 1, models: [{ name: 'cnn', model: 'cnn/model.h5', data: { file: join(outside, 'bad.npy') }, input: { sampleDim: 'dim_0' } }] };
  writeFileSync(join(dir, 'lrp-lens.json'), JSON.stringify(project, null, 2));
  const projectUri = uriOf(join(dir, 'lrp-lens.json'));
  const opened = (d: { message: string }[]) => d.some((x) => /not an array|magic|\.npy|format/i.test(x.message) && !/no such file/.test(x.message));

  // Trusted, the project's data file is opened (its problem is a diagnostic): the test can tell.
  await withClient(dir, {}, async (c) => {
    const d = await c.waitFor('project diagnostics (trusted)', () => c.diagnostics.get(projectUri), 60_000);
    assert.ok(opened(d), `trusted: the data file was checked: ${JSON.stringify(d)}`);
    // Request paths: outside the folder, refused; picked in a dialog (allowPaths), read.
    const params = { model: uriOf(join(dir, 'cnn', 'model.h5')), samples: { data: join(outside, 'x.npy'), maxSamples: 1 }, composite: 'epsilon' };
    await rejectsWith(c.conn.sendRequest('lrpLens/explain', params), 'BAD_INPUT', /outside the workspace/);
    await rejectsWith(c.conn.sendRequest('lrpLens/reanalyze', { model: '/etc/passwd' }), 'BAD_INPUT', /outside the workspace/);
    await rejectsWith(c.conn.sendRequest('lrpLens/explain', { ...params, model: '/etc/passwd' }), 'BAD_INPUT');
    const { models } = await responsive(c, 'confined requests');
    assert.ok(!models.some((m) => m.file === '/etc/passwd'));
    assert.deepEqual(await c.conn.sendRequest('lrpLens/allowPaths', { paths: [join(outside, 'x.npy')] }), { allowed: 1 });
    const r = (await c.conn.sendRequest('lrpLens/explain', params)) as ExplainResult;
    assert.deepEqual(r.samples, [0]);
    // Allowing one file allows that file only.
    await rejectsWith(c.conn.sendRequest('lrpLens/explain', { ...params, samples: { data: join(outside, 'bad.npy') } }), 'BAD_INPUT', /outside the workspace/);
  });

  // Untrusted: only the structure of lrp-lens.json is checked; its data file is not opened.
  await withClient(dir, { initializationOptions: { trusted: false } }, async (c) => {
    const d = await c.waitFor('project diagnostics (untrusted)', () => c.diagnostics.get(projectUri), 60_000);
    assert.ok(!opened(d), `untrusted: the data file was opened: ${JSON.stringify(d)}`);
    await c.waitFor('static checks still run', () => c.diagnostics.get(uriOf(join(dir, 'cnn', 'model.h5'))));
    await responsive(c, 'untrusted');
  });
});

test('wrong-typed requests give BAD_INPUT or FILE_NOT_FOUND, never INTERNAL', async () => {
  const dir = fresh('requests');
  copy(join(REF, 'cnn_same', 'model.h5'), join(dir, 'm.h5'));
  mkdirSync(join(dir, 'folder.h5'));
  execFileSync('mkfifo', [join(dir, 'fifo.npy')]);
  await withClient(dir, {}, async (c) => {
    await c.waitFor('m.h5', () => c.diagnostics.get(uriOf(join(dir, 'm.h5'))), 60_000);
    const cases: [string, unknown, string][] = [
      ['lrpLens/explain', { model: 42 }, 'BAD_INPUT'],
      ['lrpLens/explain', null, 'BAD_INPUT'],
      ['lrpLens/explain', { model: 'file://host%%/x' }, 'BAD_INPUT'],
      ['lrpLens/explain', { model: 'relative/m.h5' }, 'BAD_INPUT'],
      ['lrpLens/explain', { model: join(dir, 'm.h5'), samples: { data: 7 } }, 'BAD_INPUT'],
      ['lrpLens/explain', { model: join(dir, 'm.h5'), samples: { indices: 'all' } }, 'BAD_INPUT'],
      ['lrpLens/explain', { model: join(dir, 'm.h5'), target: 'best' }, 'BAD_INPUT'],
      ['lrpLens/explain', { model: join(dir, 'm.h5'), composite: { name: 3 } }, 'BAD_INPUT'],
      ['lrpLens/explain', { model: join(dir, 'gone.h5') }, 'FILE_NOT_FOUND'],
      ['lrpLens/explain', { model: join(dir, 'folder.h5') }, 'BAD_INPUT'],
      // A FIFO as the samples: refused by the readers (regular files only), not read until a writer comes.
      ['lrpLens/explain', { model: join(dir, 'm.h5'), samples: { data: join(dir, 'fifo.npy') } }, 'FORMAT_UNKNOWN'],
      ['lrpLens/checkData', { model: [] }, 'BAD_INPUT'],
      ['lrpLens/reanalyze', { model: {} }, 'BAD_INPUT'],
      ['lrpLens/cancel', { jobId: 5 }, 'BAD_INPUT'],
      ['lrpLens/listModels', { filter: 5 }, 'BAD_INPUT'],
      ['lrpLens/allowPaths', { paths: 'x' }, 'BAD_INPUT'],
    ];
    for (const [method, params, code] of cases) {
      await assert.rejects(c.conn.sendRequest(method, params), (e: { data?: { code: string }; message: string }) => {
        assert.equal(e.data?.code, code, `${method} ${JSON.stringify(params)}: ${e.message}`);
        return true;
      });
    }
    await responsive(c, 'after wrong-typed requests');
  });
});

test('a malformed message header does not stop the answers (raw bytes on stdin)', async () => {
  const dir = fresh('framing');
  await withClient(dir, {}, async (c) => {
    const garbage = [
      'garbage header line\r\n\r\n', // the reported case: no ':'
      'Foo: bar\r\n\r\n', // no Content-Length
      'Content-Length: abc\r\n\r\n', // not a number
      'Content-Length: 99999999999\r\n\r\n', // over MAX_MESSAGE_BYTES
      'Content-Length: 5\r\n\r\n{{{{{', // a body that is no JSON
      'Content-Length: 60\r\n\r\n{"jsonrpc":"2.0"}', // a length longer than its body
      '\u0000\u00ff\r\n\u0001', // binary noise without a header end
    ];
    for (const g of garbage) {
      c.proc.stdin!.write(Buffer.from(g, 'latin1'));
      await responsive(c, `after ${JSON.stringify(g.slice(0, 24))}`);
    }
    assert.ok(c.logs.some((l) => /skipped \d+ byte/.test(l)), c.logs.join('\n').slice(-2000));
  });
});

test('lrp-lens.json: stale validations dropped, a size budget before parsing, a FIFO data file', async () => {
  const dir = fresh('project');
  copy(join(REF, 'cnn_same', 'model.h5'), join(dir, 'cnn', 'model.h5'));
  copy(join(REF, 'cnn_same', 'x_nhwc.npy'), join(dir, 'data', 'x.npy'));
  execFileSync('mkfifo', [join(dir, 'data', 'fifo.npy')]);
  const file = join(dir, 'lrp-lens.json');
  const uri = uriOf(file);
  await withClient(dir, {}, async (c) => {
    await c.waitFor('cnn', () => c.diagnostics.get(uriOf(join(dir, 'cnn', 'model.h5'))), 60_000);
    // A: a slow validation (many entries, each reading its data header); B: a syntax error, fast.
    const entry = (i: number) => ({ name: `m${i}`, model: 'cnn/model.h5', data: { file: 'data/x.npy' }, input: { sampleDim: 'nope' } });
    const slow = JSON.stringify({ version: 1, models: Array.from({ length: 300 }, (_, i) => entry(i)) }, null, 1);
    await c.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'json', version: 1, text: slow } });
    const slowDiags = await c.waitFor('the slow validation alone', () => (c.diagnostics.get(uri)?.length ?? 0) > 1 && c.diagnostics.get(uri), 60_000);
    const t0 = Date.now();
    await c.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ text: slow + ' ' }] });
    await new Promise((r) => setTimeout(r, 400)); // the slow one of version 2 is under way ...
    const broken = '{ "version": 1, "models": [';
    await c.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: 3 }, contentChanges: [{ text: broken }] });
    // ... and ends after the fast one of version 3: its result must not replace version 3's.
    await c.waitFor('version 3 published', () => c.diagnostics.get(uri)?.length === 1);
    await new Promise((r) => setTimeout(r, Math.max(3000, 2 * (Date.now() - t0))));
    const last = c.diagnostics.get(uri)!;
    assert.equal(last.length, 1, `stale diagnostics came back: ${last.length} (the slow text gives ${slowDiags.length})`);

    // Over the projectBytes budget: one diagnostic saying so, and no parse.
    const huge = JSON.stringify({ version: 1, models: [], pad: 'x'.repeat(15 * 1024 * 1024) });
    const t1 = Date.now();
    await c.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: 4 }, contentChanges: [{ text: huge }] });
    const big = await c.waitFor('the budget diagnostic', () => c.diagnostics.get(uri)?.find((d) => /projectBytes/.test(d.message)), 60_000);
    assert.equal(big.code, 'BUDGET_EXCEEDED');
    console.log(`# 15 MB lrp-lens.json: budget diagnostic after ${Date.now() - t1} ms`);
    await responsive(c, 'after a 15 MB lrp-lens.json');

    // A FIFO named as the data file: validation ends with a diagnostic on it (it is not opened to block).
    const fifo = JSON.stringify({ version: 1, models: [{ name: 'cnn', model: 'cnn/model.h5', data: { file: 'data/fifo.npy' } }] }, null, 2);
    const t2 = Date.now();
    await c.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: 5 }, contentChanges: [{ text: fifo }] });
    const f = await c.waitFor('a diagnostic on the FIFO', () => c.diagnostics.get(uri)?.find((d) => /FIFO|regular file/i.test(d.message)), 30_000);
    assert.ok(f);
    console.log(`# FIFO data file: diagnostic after ${Date.now() - t2} ms`);
    await responsive(c, 'after a FIFO data file');
  });
});

test('a symlink loop made while the server runs adds no models; removing it leaves none behind', async () => {
  const dir = fresh('loop');
  copy(join(REF, 'cnn_same', 'model.h5'), join(dir, 'models', 'm.h5'));
  await withClient(dir, {}, async (c) => {
    await c.waitFor('m.h5', () => c.diagnostics.get(uriOf(join(dir, 'models', 'm.h5'))), 60_000);
    symlinkSync(dir, join(dir, 'models', 'loop'));
    symlinkSync(join(dir, 'models'), join(dir, 'again'));
    // A real folder added at the same time is picked up: the watcher is alive and the links were seen.
    mkdirSync(join(dir, 'later'));
    copy(join(REF, 'cnn_same', 'model.h5'), join(dir, 'later', 'n.h5'));
    await c.waitFor('the model in the new folder', () => c.diagnostics.get(uriOf(join(dir, 'later', 'n.h5'))), 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    let { models } = await responsive(c, 'symlink loop');
    assert.deepEqual(models.map((m) => m.file).sort(), [join(dir, 'later', 'n.h5'), join(dir, 'models', 'm.h5')]);
    rmSync(join(dir, 'models', 'loop'));
    rmSync(join(dir, 'again'));
    await new Promise((r) => setTimeout(r, 1000));
    ({ models } = await responsive(c, 'links removed'));
    assert.equal(models.length, 2);
  });
});

test('a SavedModel folder is one model (its variables are not models); a TF.js graph model is a model', async () => {
  const dir = fresh('savedmodel');
  const fixtures = join(REPO, 'server', 'src', 'core', 'model', 'formats', 'fixtures');
  cpSync(join(fixtures, 'savedmodel-tf24', 'model'), join(dir, 'sm'), { recursive: true });
  cpSync(join(fixtures, 'tfjs-graph-cnn'), join(dir, 'graph'), { recursive: true });
  await withClient(dir, {}, async (c) => {
    // Its diagnostics go on saved_model.pb, a file the Problems panel can open, not on the folder.
    await c.waitFor('the SavedModel analyzed', () => c.diagnostics.get(uriOf(join(dir, 'sm', 'saved_model.pb'))), 60_000);
    assert.equal(c.diagnostics.get(uriOf(join(dir, 'sm'))), undefined);
    await c.waitFor('the graph model analyzed', () => c.diagnostics.get(uriOf(join(dir, 'graph', 'model.json'))), 60_000);
    const { models } = await responsive(c, 'SavedModel');
    assert.deepEqual(models.map((m) => m.file).sort(), [join(dir, 'graph', 'model.json'), join(dir, 'sm')]);
    for (const m of models) assert.notEqual(m.state, 'pending', m.file);
    // Asked for by its saved_model.pb, the folder is the model.
    assert.deepEqual(await c.conn.sendRequest('lrpLens/reanalyze', { model: join(dir, 'sm', 'saved_model.pb') }), { models: 1 });
    assert.equal((await responsive(c, 'SavedModel reanalyzed')).models.length, 2);
    // The folder removed: its diagnostics are cleared where they were published.
    assert.ok((c.diagnostics.get(uriOf(join(dir, 'sm', 'saved_model.pb'))) ?? []).length > 0, 'the fixture has findings to clear');
    rmSync(join(dir, 'sm'), { recursive: true, force: true });
    await c.conn.sendRequest('lrpLens/reanalyze', {});
    await c.waitFor('the SavedModel diagnostics cleared', () => c.diagnostics.get(uriOf(join(dir, 'sm', 'saved_model.pb')))?.length === 0, 60_000);
  });
});
