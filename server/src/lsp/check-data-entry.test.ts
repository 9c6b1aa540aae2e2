/**
 * lrpLens/checkData on an unsaved data-form entry (CheckDataParams.entry): the same findings as the same
 * entry once saved, samples picked by date over LSP, the entry's paths confined as explain's are; listModels
 * names the model's entry once there is one (the model viewer's "Add data" / "Explain model").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SAMPLES, scratchDir } from '../testing/paths.js';
import { startClient } from '../testing/lsp-client.js';
import type { CheckDataResult, DataDescription, EntryDraft, ExplainResult, ListModelsResult } from '../protocol.js';

async function rejectsWith(p: Promise<unknown>, code: string, match: RegExp): Promise<void> {
  await assert.rejects(p, (e: { data?: { code: string; message: string }; message: string }) => {
    assert.equal(e.data?.code, code, e.message);
    assert.match(e.data!.message, match);
    return true;
  });
}

test('checkData on an unsaved entry gives the findings of the same entry saved; samples by date; paths confined', async () => {
  const dir = join(scratchDir('check-data-entry'), 'ws');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'models', 'cnn_same_maxpool'), { recursive: true });
  mkdirSync(join(dir, 'data'), { recursive: true });
  const model = join(dir, 'models', 'cnn_same_maxpool', 'model.h5');
  copyFileSync(join(SAMPLES, 'models', 'cnn_same_maxpool', 'model.h5'), model);
  const outside = join(SAMPLES, 'data', 'ersstv5_anom_5deg_1980-2018.nc');
  const data = join(dir, 'data', 'ersstv5_anom_5deg_1980-2018.nc');
  copyFileSync(outside, data);
  const c = await startClient(dir);
  try {
    const d = (await c.conn.sendRequest('lrpLens/describeData', { file: data, model })) as DataDescription;
    const draft: EntryDraft = { ...d.defaults!, data: { ...d.defaults!.data, file: 'data/ersstv5_anom_5deg_1980-2018.nc', select: { time: '1997-01:1998-12' } } };
    const samples = { timeRange: '1997-07:1998-02', dates: ['1998-06'] };

    // Samples by date over LSP: the months asked, in time order.
    const e = (await c.conn.sendRequest('lrpLens/explain', { model, entry: draft, samples, composite: 'epsilon' })) as ExplainResult;
    assert.deepEqual(e.times?.map((t) => t.slice(0, 7)), ['1997-07', '1997-08', '1997-09', '1997-10', '1997-11', '1997-12', '1998-01', '1998-02', '1998-06']);
    assert.deepEqual(e.samples, [6, 7, 8, 9, 10, 11, 12, 13, 17]);
    assert.deepEqual(e.selection, samples);
    await rejectsWith(c.conn.sendRequest('lrpLens/explain', { model, entry: draft, samples: { dates: ['1999-01'] } }), 'SELECTION_OUT_OF_RANGE', /1997-01-01\.\.1998-12-01 \(24 times\)/);
    await rejectsWith(c.conn.sendRequest('lrpLens/checkData', { model, entry: draft, samples: { timeRange: '1998-01' } }), 'BAD_INPUT', /FROM:TO/);

    const fromDraft = (await c.conn.sendRequest('lrpLens/checkData', { model, entry: draft, samples })) as CheckDataResult;
    assert.equal(existsSync(join(dir, 'lrp-lens.json')), false, 'checking a draft writes nothing');
    assert.ok(fromDraft.findings.length > 0);
    const entryOf = async () => ((await c.conn.sendRequest('lrpLens/listModels', {})) as ListModelsResult).models.find((m) => m.file === model)?.dataEntry;
    assert.equal(await entryOf(), undefined, 'no lrp-lens.json yet: the viewer offers "Add data"');
    await c.conn.sendRequest('lrpLens/saveEntry', { model, entry: draft });
    assert.equal(await entryOf(), 'cnn_same_maxpool', 'the saved entry: the viewer offers "Explain model"');
    const fromFile = (await c.conn.sendRequest('lrpLens/checkData', { model, samples })) as CheckDataResult;
    const strip = (r: CheckDataResult) => r.findings.map((f) => ({ ...f }));
    assert.deepEqual(strip(fromDraft), strip(fromFile));
    assert.deepEqual(fromDraft.twins ?? [], fromFile.twins ?? []);

    // The entry's data file and mask file are confined to the workspace, as explain's are.
    await rejectsWith(c.conn.sendRequest('lrpLens/checkData', { model, entry: { ...draft, data: { ...draft.data, file: outside } } }), 'BAD_INPUT', /outside the workspace/);
    await rejectsWith(c.conn.sendRequest('lrpLens/checkData', { model, entry: { ...draft, data: { ...draft.data, file: '/etc/passwd' } } }), 'BAD_INPUT', /outside the workspace/);
  } finally {
    await c.close();
  }
});
