/**
 * Saving a draft entry into lrp-lens.json: a new file (schema-valid, read back by readProject, the same
 * model input as the draft), a copy of samples/lrp-lens.json (the replaced entry changes, every other byte
 * stays), an added entry, unique names, and refusals (outside the workspace folder, an entry that does
 * not parse).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import AjvModule from 'ajv';
import { REPO, SAMPLES, scratchDir } from '../../testing/paths.js';
import { LensError } from '../errors.js';
import { describeData } from './describe.js';
import { draftProject, type DraftEntry } from './draft.js';
import { buildModelInput } from './pipeline.js';
import { findEntry, readProject } from './project.js';
import { defaultName, saveEntry } from './project-writer.js';
import { suggestEntry } from './suggest.js';

type AjvCtor = new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown } };
const Ajv = ((AjvModule as unknown as { default?: AjvCtor }).default ?? AjvModule) as unknown as AjvCtor;
const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(join(REPO, 'schemas', 'lrp-lens.schema.json'), 'utf8')));

const CNN = { fileShape: [null, 24, 72, 1], fileLayout: 'NHWC' };

/** A fresh folder with a copy of a sample model and the 5-degree data file. */
function workspace(name: string): { root: string; model: string; data: string } {
  const root = join(scratchDir('project-writer'), name);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'models', 'cnn_same_maxpool'), { recursive: true });
  mkdirSync(join(root, 'data'), { recursive: true });
  const model = join(root, 'models', 'cnn_same_maxpool', 'model.h5');
  copyFileSync(join(SAMPLES, 'models', 'cnn_same_maxpool', 'model.h5'), model);
  const data = join(root, 'data', 'ersstv5_anom_5deg_1980-2018.nc');
  copyFileSync(join(SAMPLES, 'data', 'ersstv5_anom_5deg_1980-2018.nc'), data);
  return { root, model, data };
}

async function draftFor(data: string): Promise<DraftEntry> {
  return suggestEntry(await describeData(data), CNN).entry!;
}

test('a folder without lrp-lens.json: created, schema-valid, read back, the same inputs as the draft', async () => {
  const w = workspace('new');
  const draft = await draftFor(w.data);
  const r = await saveEntry({ modelFile: w.model, draft, projectFile: join(w.root, 'lrp-lens.json'), root: w.root });
  assert.deepEqual(r, { project: join(w.root, 'lrp-lens.json'), name: 'cnn_same_maxpool', index: 0, created: true, replaced: false });
  const json = JSON.parse(readFileSync(r.project, 'utf8'));
  assert.equal(validate(json), true, JSON.stringify(validate.errors));
  assert.equal(json.version, 1);
  assert.equal(json.$schema, undefined, "no remote $schema URL: the extension maps lrp-lens.json to its bundled schema");
  assert.equal(json.models[0].model, 'models/cnn_same_maxpool/model.h5');
  assert.equal(json.models[0].data.file, 'data/ersstv5_anom_5deg_1980-2018.nc');
  const project = await readProject(r.project);
  const entry = findEntry(project, w.model);
  assert.equal(entry.name, 'cnn_same_maxpool');
  const fromFile = await buildModelInput(entry, CNN.fileShape, { fileLayout: 'NHWC' });
  const fromDraft = await buildModelInput(draftProject(draft, w.model, w.root).project!.models[0], CNN.fileShape, { fileLayout: 'NHWC' });
  assert.deepEqual(fromFile.x.data, fromDraft.x.data);
  assert.ok(fromFile.x.data.length === 468 * 24 * 72);
});

test('a copy of samples/lrp-lens.json: the entry for the model is replaced, every other byte kept', async () => {
  const w = workspace('replace');
  const original = readFileSync(join(SAMPLES, 'lrp-lens.json'), 'utf8');
  const file = join(w.root, 'lrp-lens.json');
  writeFileSync(file, original);
  const draft = await draftFor(w.data);
  draft.input = { ...draft.input, clip: [-4, 4] };
  const r = await saveEntry({ modelFile: w.model, draft, projectFile: file, root: w.root });
  assert.equal(r.replaced, true);
  assert.equal(r.created, false);
  assert.equal(r.name, 'cnn_same_maxpool');
  const after = readFileSync(file, 'utf8');
  // The replaced entry's old text: from its opening brace to its closing one.
  const start = original.indexOf('{\n      "name": "cnn_same_maxpool"');
  const end = original.indexOf('{\n      "name": "cnn_valid_wrap_avgpool"');
  const oldTail = original.slice(original.lastIndexOf('}', original.lastIndexOf(',', end)) + 1);
  assert.equal(after.slice(0, start), original.slice(0, start));
  assert.ok(after.endsWith(oldTail));
  assert.notEqual(after, original);
  const project = await readProject(file);
  assert.equal(project.models.length, JSON.parse(original).models.length);
  assert.deepEqual(project.models[r.index].input.clip, [-4, 4]);
  assert.equal(validate(JSON.parse(after)), true, JSON.stringify(validate.errors));
  // The other entries parse to what they were.
  const before = JSON.parse(original).models;
  const now = JSON.parse(after).models;
  for (let i = 0; i < before.length; i++) if (i !== r.index) assert.deepEqual(now[i], before[i]);
});

test('a model with no entry is appended with a unique name; an empty models array gets its first entry', async () => {
  const w = workspace('append');
  const file = join(w.root, 'lrp-lens.json');
  const original = readFileSync(join(SAMPLES, 'lrp-lens.json'), 'utf8');
  writeFileSync(file, original);
  const other = join(w.root, 'models', 'copy', 'cnn_same_maxpool.h5');
  mkdirSync(dirname(other), { recursive: true });
  copyFileSync(w.model, other);
  const r = await saveEntry({ modelFile: other, draft: await draftFor(w.data), projectFile: file, root: w.root });
  assert.equal(r.replaced, false);
  assert.equal(r.index, JSON.parse(original).models.length);
  assert.equal(r.name, 'cnn_same_maxpool-2');
  const after = readFileSync(file, 'utf8');
  const lastClose = original.lastIndexOf('}', original.lastIndexOf(']'));
  assert.equal(after.slice(0, lastClose + 1), original.slice(0, lastClose + 1));
  assert.equal(findEntry(await readProject(file), other).name, 'cnn_same_maxpool-2');

  writeFileSync(file, '{\n\t"version": 1,\n\t"models": []\n}\n');
  const r2 = await saveEntry({ modelFile: w.model, draft: await draftFor(w.data), projectFile: file, root: w.root });
  assert.equal(r2.index, 0);
  const text = readFileSync(file, 'utf8');
  assert.match(text, /^\{\n\t"version": 1,\n\t"models": \[\n\t\t\{\n\t\t\t"name": "cnn_same_maxpool"/);
  assert.equal((await readProject(file)).models.length, 1);
});

test('refusals: outside the workspace folder, an entry that does not parse, a file that is not JSON', async () => {
  const w = workspace('refuse');
  const draft = await draftFor(w.data);
  const outside = join(scratchDir('project-writer'), 'elsewhere');
  mkdirSync(outside, { recursive: true });
  await assert.rejects(saveEntry({ modelFile: w.model, draft, projectFile: join(outside, 'lrp-lens.json'), root: w.root }), (e) => e instanceof LensError && e.code === 'BAD_INPUT' && /outside the model's workspace folder/.test((e as Error).message));
  await assert.rejects(saveEntry({ modelFile: w.model, draft, projectFile: join(w.root, '..', 'lrp-lens.json'), root: w.root }), (e) => e instanceof LensError && e.code === 'BAD_INPUT');
  await assert.rejects(saveEntry({ modelFile: w.model, draft: { ...draft, input: { ...draft.input, coarsen: -1 } }, projectFile: join(w.root, 'lrp-lens.json'), root: w.root }), (e) => e instanceof LensError && e.code === 'CONFIG_ERROR' && /coarsen/.test((e as Error).message));
  assert.equal(existsSync(join(w.root, 'lrp-lens.json')), false);
  writeFileSync(join(w.root, 'lrp-lens.json'), '{ "models": [ ');
  await assert.rejects(saveEntry({ modelFile: w.model, draft, projectFile: join(w.root, 'lrp-lens.json'), root: w.root }), (e) => e instanceof LensError && e.code === 'BAD_JSON');
  assert.equal(readFileSync(join(w.root, 'lrp-lens.json'), 'utf8'), '{ "models": [ ');
});

test('names: the folder for generic file names, else the file name', () => {
  assert.equal(defaultName('/w/models/sst_cnn/model.h5'), 'sst_cnn');
  assert.equal(defaultName('/w/models/sst_cnn/enso_lstm.keras'), 'enso_lstm');
  assert.equal(defaultName('/w/exported/saved_model'), 'exported');
});
