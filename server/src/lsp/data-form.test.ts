/**
 * The data form over LSP, from a folder with no lrp-lens.json: describeData suggests an entry that fits,
 * planInput previews it, explain on the unsaved entry gives the same maps as explain (and the CLI's
 * explain) on the entry once saveEntry has written it; the project file's diagnostics follow the write;
 * every path is confined and every problem structured.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO, SAMPLES, scratchDir } from '../testing/paths.js';
import { startClient } from '../testing/lsp-client.js';
import { readNpy } from '../core/data/npy.js';
import { run as cliExplain } from '../cli/explain.js';
import type { DataDescription, EntryDraft, ExplainResult, PlanInputResult, SaveEntryResult } from '../protocol.js';

const uriOf = (p: string): string => pathToFileURL(p).href;
const floats = (b64: string): Float32Array => {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
};

async function rejectsWith(p: Promise<unknown>, code: string, match?: RegExp): Promise<void> {
  await assert.rejects(p, (e: { data?: { code: string; message: string }; message: string }) => {
    assert.equal(e.data?.code, code, e.message);
    if (match) assert.match(e.data!.message, match);
    return true;
  });
}

test('describe, plan, explain a draft, save it, explain the saved entry: the same maps', async () => {
  const dir = join(scratchDir('data-form'), 'ws');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'models', 'cnn_same_maxpool'), { recursive: true });
  mkdirSync(join(dir, 'data'), { recursive: true });
  const model = join(dir, 'models', 'cnn_same_maxpool', 'model.h5');
  copyFileSync(join(SAMPLES, 'models', 'cnn_same_maxpool', 'model.h5'), model);
  const data = join(dir, 'data', 'ersstv5_anom_5deg_1980-2018.nc');
  copyFileSync(join(SAMPLES, 'data', 'ersstv5_anom_5deg_1980-2018.nc'), data);
  const project = join(dir, 'lrp-lens.json');
  const c = await startClient(dir);
  try {
    const d = (await c.conn.sendRequest('lrpLens/describeData', { file: data, model })) as DataDescription;
    assert.equal(d.format, 'netcdf3');
    assert.equal(d.file, data);
    assert.deepEqual(d.variables.map((v) => v.name), ['tos']);
    assert.ok(d.notes.length >= 3, d.notes.join('\n'));
    const draft: EntryDraft = { ...d.defaults!, data: { ...d.defaults!.data, file: 'data/ersstv5_anom_5deg_1980-2018.nc', select: { time: '1980-01:1980-03' } } };
    assert.deepEqual(draft.input!.layout, ['lat', 'lon', 'channel']);

    const plan = (await c.conn.sendRequest('lrpLens/planInput', { model, entry: draft, previewSample: 2 })) as PlanInputResult;
    assert.equal(plan.fits, true, JSON.stringify(plan.problems));
    assert.equal(plan.samples, 3);
    assert.deepEqual(plan.modelShape, [24, 72, 1]);
    assert.deepEqual(plan.preview!.map.shape, [24, 72]);
    assert.equal(plan.preview!.time, '1980-03-01');
    assert.equal(plan.preview!.diverging, true, 'the file holds anomalies');
    assert.equal(floats(plan.preview!.map.base64).length, 24 * 72);
    assert.equal((plan.entry as { data: { file: string } }).data.file, 'data/ersstv5_anom_5deg_1980-2018.nc');

    const fromDraft = (await c.conn.sendRequest('lrpLens/explain', { model, entry: draft, samples: { indices: [0, 1, 2] }, composite: 'epsilon' })) as ExplainResult;
    assert.equal(existsSync(project), false);

    const saved = (await c.conn.sendRequest('lrpLens/saveEntry', { model, entry: draft })) as SaveEntryResult;
    assert.deepEqual(saved, { project, name: 'cnn_same_maxpool', index: 0, created: true, replaced: false });
    const fromFile = (await c.conn.sendRequest('lrpLens/explain', { model, samples: { indices: [0, 1, 2] }, composite: 'epsilon' })) as ExplainResult;
    assert.deepEqual(fromFile.relevance.shape, [3, 24, 72, 1]);
    assert.equal(fromFile.relevance.base64, fromDraft.relevance.base64);
    assert.equal(fromFile.input?.base64, fromDraft.input?.base64);
    assert.ok(fromDraft.input?.base64);
    assert.deepEqual(fromFile.times, ['1980-01-01', '1980-02-01', '1980-03-01']);

    // The CLI reads the written file the same way.
    const out = join(dir, 'r.npy');
    const lines: string[] = [];
    const code = await cliExplain(['--config', project, '--model', 'cnn_same_maxpool', '--composite', 'epsilon', '--layout', 'model', '--out', out, '--json'], (s) => void lines.push(s));
    assert.equal(code, 0, lines.join(''));
    const r = readNpy(readFileSync(out), out);
    assert.deepEqual(r.shape, [3, 24, 72, 1]);
    assert.deepEqual(Float32Array.from(r.data as Float32Array), floats(fromDraft.relevance.base64));

    // Saving an entry with a problem: the project file's diagnostics point at it; saving a clean one clears them.
    const withTypo = { ...draft, input: { ...draft.input, fillvalue: 0 } };
    const again = (await c.conn.sendRequest('lrpLens/saveEntry', { model, entry: withTypo })) as SaveEntryResult;
    assert.equal(again.replaced, true);
    const text = readFileSync(project, 'utf8');
    const diags = await c.waitFor('the typo diagnostic', () => c.diagnostics.get(uriOf(project))?.find((x) => /fillvalue/.test(x.message)));
    const line = text.split('\n').findIndex((l) => l.includes('"fillvalue"'));
    assert.equal(diags.range.start.line, line);
    assert.match(diags.message, /Did you mean 'fillValue'/);
    await c.conn.sendRequest('lrpLens/saveEntry', { model, entry: draft });
    await c.waitFor('the diagnostics cleared', () => !c.diagnostics.get(uriOf(project))?.some((x) => /fillvalue/.test(x.message)) || undefined);
  } finally {
    await c.close();
  }
});

test('hostile: paths outside the workspace, a missing variable, a huge selection, an oversized draft', async () => {
  const dir = join(scratchDir('data-form'), 'hostile');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'm'), { recursive: true });
  const model = join(dir, 'm', 'model.h5');
  copyFileSync(join(SAMPLES, 'models', 'cnn_same_maxpool', 'model.h5'), model);
  const outside = join(SAMPLES, 'data', 'ersstv5_anom_5deg_1980-2018.nc');
  const inside = join(dir, 'sst.nc');
  copyFileSync(outside, inside);
  const c = await startClient(dir);
  try {
    await rejectsWith(c.conn.sendRequest('lrpLens/describeData', { file: outside }), 'BAD_INPUT', /outside the workspace/);
    await rejectsWith(c.conn.sendRequest('lrpLens/describeData', { file: '/etc/passwd' }), 'BAD_INPUT', /outside the workspace/);
    const entry: EntryDraft = { data: { file: inside, variable: 'tos' }, input: { sampleDim: 'time' } };
    await rejectsWith(c.conn.sendRequest('lrpLens/planInput', { model, entry: { ...entry, data: { file: outside } } }), 'BAD_INPUT', /outside the workspace/);
    await rejectsWith(c.conn.sendRequest('lrpLens/planInput', { model, entry: { ...entry, data: { file: '../'.repeat(16) + 'etc/passwd' } } }), 'BAD_INPUT');
    await rejectsWith(c.conn.sendRequest('lrpLens/planInput', { model, entry: { ...entry, mask: { file: outside, variable: 'tos' } } }), 'BAD_INPUT', /mask\.file/);
    await rejectsWith(c.conn.sendRequest('lrpLens/explain', { model, entry: { ...entry, data: { file: outside } } }), 'BAD_INPUT', /outside the workspace/);
    await rejectsWith(c.conn.sendRequest('lrpLens/saveEntry', { model, entry, project: join(SAMPLES, 'lrp-lens.json') }), 'BAD_INPUT', /outside the model's workspace folder/);
    await rejectsWith(c.conn.sendRequest('lrpLens/planInput', { model, entry: { data: {} } }), 'BAD_INPUT', /entry\.data\.file/);
    await rejectsWith(c.conn.sendRequest('lrpLens/planInput', { model, entry: { data: { file: inside }, input: { layout: 'x'.repeat(70_000) } } }), 'BAD_INPUT', /at most 65536/);
    const missing = (await c.conn.sendRequest('lrpLens/planInput', { model, entry: { ...entry, data: { file: inside, variable: 'sst' } } })) as PlanInputResult;
    assert.equal(missing.fits, false);
    assert.equal(missing.problems[0].path, 'data.variable');
    assert.match(missing.problems[0].message, /no variable 'sst'.*tos/);
    const huge = (await c.conn.sendRequest('lrpLens/planInput', { model, entry: { ...entry, data: { file: inside, variable: 'tos', select: { time: '0:99999999' } } } })) as PlanInputResult;
    assert.equal(huge.fits, false);
    assert.equal(huge.problems[0].path?.startsWith('data.select'), true, JSON.stringify(huge.problems));
    // A Zarr store (a folder) is described and planned like a file: 24x36 is not the model's 24x72.
    const store = join(dir, 'ersst.zarr');
    cpSync(join(REPO, 'server', 'src', 'core', 'data', 'fixtures', 'zarr', 'ersst-v3.zarr'), store, { recursive: true });
    const z = (await c.conn.sendRequest('lrpLens/describeData', { file: store, model })) as DataDescription;
    assert.equal(z.format, 'zarr');
    assert.equal(z.defaults!.data.variable, 'tos');
    const zp = (await c.conn.sendRequest('lrpLens/planInput', { model, entry: z.defaults })) as PlanInputResult;
    assert.equal(zp.fits, false);
    assert.match(zp.problems[0].message, /^the model expects 24x72, the variable is 24x36 \(lat x lon\): the data are coarser than the model's grid/);
    writeFileSync(join(dir, 'lrp-lens.json'), '{"models": [');
    await rejectsWith(c.conn.sendRequest('lrpLens/saveEntry', { model, entry }), 'BAD_JSON');
    assert.equal(readFileSync(join(dir, 'lrp-lens.json'), 'utf8'), '{"models": [');
  } finally {
    await c.close();
  }
});
