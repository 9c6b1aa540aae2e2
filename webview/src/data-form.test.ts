/**
 * The data form's state machine (data-form.ts) on descriptions of real files: the ERSSTv5 2-degree
 * NetCDF file (one variable, a monthly time axis) and the Zarr v2 fixture store (two variables on one
 * grid, for channel stacking). The descriptions are read here from the files' headers and time axes
 * with the data readers, the suggested entry is the hand-written samples/lrp-lens.json entry of
 * mlp_relu (the model trained on monthly anomalies of that file).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import sharp from 'sharp';
import type { Browser } from 'playwright-core';
import { DIVERGING, LUT_MAX, colorOf, relevanceLimits } from '../../server/src/core/render/colormap.js';
import { bundle, launch, openPanel, sstScenario, CHROMIUM } from './panel-harness.js';
import { encodeBytes, encodeFloat32, parseToHost, parseToWebview, type ToHost } from './messages.js';
import { sstAnomaly } from '../../server/src/testing/sst-fixtures.js';
import { join } from 'node:path';
import { REPO, SAMPLES } from '../../server/src/testing/paths.js';
import { coordinateVars, dataVariables, withSource } from '../../server/src/core/data/load.js';
import { decodeTimes, formatDate } from '../../server/src/core/data/cf.js';
import { fullSlab } from '../../server/src/core/data/source.js';
import type { DataAxisInfo, DataDescription, DimRole, EntryDraft, PlanInputResult } from '../../server/src/protocol.js';
import {
  applyChange, choicesOf, fieldOf, fitLine, initialDraft, isReadyInputs, problemsByField, stackable, yearsOf, type Change,
} from './data-form.js';

const NC = join(SAMPLES, 'data', 'ersstv5_sst_2deg_2010-2020.nc');
const ZARR = join(REPO, 'server', 'src', 'core', 'data', 'fixtures', 'zarr', 'ersst-v2.zarr');

/** A DataDescription from the file's own headers and time axis (what describeData reports, without its suggestions). */
async function describe(file: string, defaults?: EntryDraft): Promise<DataDescription> {
  return withSource(file, {}, async (s) => {
    const vars = dataVariables(s).filter((v) => v.dims.length > 1);
    const axes: DataAxisInfo[] = [];
    for (const c of coordinateVars(s, vars[0])) {
      const role: DimRole = c.axis ?? 'other';
      const a: DataAxisInfo = { name: c.dim, role, size: s.dims[c.dim] };
      if (role === 'time' && c.coord && typeof c.coord.attrs.units === 'string') {
        const raw = await s.read(c.coord.name, fullSlab(c.coord.shape));
        a.times = decodeTimes(Array.from(raw.data as ArrayLike<number>, Number), c.coord.attrs.units, c.coord.attrs.calendar as string | undefined).map(formatDate);
        a.first = a.times[0];
        a.last = a.times[a.times.length - 1];
      }
      axes.push(a);
    }
    return {
      file, format: s.format, axes, notes: [], defaults,
      variables: vars.map((v) => ({ name: v.name, dims: v.dims, shape: v.shape, roles: coordinateVars(s, v).map((c) => c.axis ?? 'other'), units: v.attrs.units as string | undefined })),
    };
  });
}

/** The hand-written entry for mlp_relu, with its data file made absolute (as describeData suggests it). */
function mlpEntry(): EntryDraft {
  const project = JSON.parse(readFileSync(join(SAMPLES, 'lrp-lens.json'), 'utf8')) as { models: (EntryDraft & { model: string; labels?: unknown })[] };
  const { model: _model, labels: _labels, classNames: _names, name: _name, explain: _explain, ...entry } = project.models.find((m) => m.name === 'mlp_relu')!;
  return { ...entry, data: { ...entry.data, file: NC } };
}

/** The keys that differ between two drafts (dotted paths), to show a change touched only its own key. */
function diff(a: unknown, b: unknown, path = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(a) || !isObj(b)) return [path];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) => diff(a[k], b[k], path ? `${path}.${k}` : k));
}

test('the defaults become the draft, and the controls read them back', async () => {
  const d = await describe(NC, mlpEntry());
  const draft = initialDraft(d);
  assert.deepEqual(draft, mlpEntry());
  assert.notEqual(draft, d.defaults, 'the draft is a copy: editing it leaves the suggestion as it was');
  const c = choicesOf(draft, d);
  const time = d.axes.find((a) => a.role === 'time')!;
  assert.equal(c.variable, 'sst');
  assert.deepEqual(c.channels, []);
  assert.equal(c.standardize, 'monthly', 'the model was trained on monthly anomalies');
  assert.equal(c.periodStart, 2010);
  assert.equal(c.periodEnd, 2017);
  assert.equal(c.feed, 'ocean', 'flatten "valid": the ocean cells of an MLP');
  assert.equal(c.maskMissing, true);
  assert.equal(c.fillValue, 0);
  assert.equal(c.coarsen, 1);
  assert.equal(c.wrapLon, 0);
  assert.equal(c.timeStart, undefined, 'no time selection: the whole axis');
  assert.ok(time.times!.length > 100 && time.times![0].startsWith('2010-01'), `monthly from 2010: ${time.times![0]}`);
  assert.deepEqual(yearsOf(d).slice(0, 2), [2010, 2011]);
});

test('each control changes its own key of the entry, and only that', async () => {
  const d = await describe(NC, mlpEntry());
  const start = initialDraft(d);
  const times = d.axes.find((a) => a.role === 'time')!.times!;
  const last = times[times.length - 1];
  const cases: [Change, string[], (e: EntryDraft) => void][] = [
    [{ key: 'timeStart', value: '2012-01-01' }, ['data.select'], (e) => assert.equal(e.data.select!.time, `2012-01:${last.slice(0, 7)}`)],
    [{ key: 'timeEnd', value: times[95] }, ['data.select'], (e) => assert.equal(e.data.select!.time, `2010-01:${times[95].slice(0, 7)}`)],
    [{ key: 'standardize', value: 'none' }, ['input.standardize'], (e) => assert.equal(e.input!.standardize, undefined)],
    [{ key: 'standardize', value: 'zscore' }, ['input.standardize.anomaly', 'input.standardize.period', 'input.standardize.mean', 'input.standardize.std'], (e) => assert.deepEqual(e.input!.standardize, { mean: 0, std: 1 })],
    [{ key: 'standardize', value: 'mean' }, ['input.standardize.anomaly', 'input.standardize.period'], (e) => assert.deepEqual(e.input!.standardize, { anomaly: 'mean' })],
    [{ key: 'periodStart', value: 2011 }, ['input.standardize.period'], (e) => assert.deepEqual(e.input!.standardize, { anomaly: 'monthly', period: '2011-01:2017-12' })],
    [{ key: 'periodEnd', value: 2015 }, ['input.standardize.period'], (e) => assert.deepEqual(e.input!.standardize, { anomaly: 'monthly', period: '2010-01:2015-12' })],
    [{ key: 'clip', value: [-3, 3] }, ['input.clip'], (e) => assert.deepEqual(e.input!.clip, [-3, 3])],
    [{ key: 'maskMissing', value: false }, ['mask'], (e) => assert.equal(e.mask, undefined)],
    [{ key: 'fillValue', value: -1 }, ['input.fillValue'], (e) => assert.equal(e.input!.fillValue, -1)],
    [{ key: 'wrapLon', value: 3 }, ['input.wrapLon'], (e) => assert.equal(e.input!.wrapLon, 3)],
    [{ key: 'wrapLon', value: 0 }, [], () => undefined],
    [{ key: 'coarsen', value: 2 }, ['input.coarsen'], (e) => assert.equal(e.input!.coarsen, 2)],
    [{ key: 'coarsen', value: 1 }, [], () => undefined],
    [{ key: 'feed', value: 'grid' }, ['input.flatten'], (e) => assert.equal(e.input!.flatten, undefined)],
    [{ key: 'feed', value: 'flat' }, ['input.flatten'], (e) => assert.equal(e.input!.flatten, true)],
    [{ key: 'feed', value: 'sequence' }, ['input.flatten', 'input.sequence'], (e) => assert.deepEqual(e.input!.sequence, { time: 'lon', reverse: false })],
    [{ key: 'feed', value: 'ocean' }, [], () => undefined],
  ];
  for (const [change, keys, check] of cases) {
    const e = applyChange(start, d, change);
    assert.deepEqual(diff(start, e).sort(), keys.sort(), `${JSON.stringify(change)} changed ${diff(start, e)}`);
    check(e);
    assert.deepEqual(start, mlpEntry(), 'the draft before the change is left as it was');
  }
  // Back to the whole axis: no selection is written.
  const narrowed = applyChange(start, d, { key: 'timeStart', value: '2012-01-01' });
  assert.equal(applyChange(narrowed, d, { key: 'timeStart', value: times[0] }).data.select, undefined);
  assert.equal(choicesOf(narrowed, d).timeStart, '2012-01-01', 'the control reads the date back from the selection');
  // A sequence, reversed, along the chosen dim; read back by the controls.
  let seq = applyChange(start, d, { key: 'feed', value: 'sequence' });
  seq = applyChange(seq, d, { key: 'seqTime', value: 'lat' });
  seq = applyChange(seq, d, { key: 'seqReverse', value: true });
  assert.deepEqual(seq.input!.sequence, { time: 'lat', reverse: true });
  assert.equal(choicesOf(seq, d).feed, 'sequence');
  // Ocean cells need the mask: choosing them brings "missing" back.
  const unmasked = applyChange(applyChange(start, d, { key: 'maskMissing', value: false }), d, { key: 'feed', value: 'grid' });
  assert.equal(applyChange(unmasked, d, { key: 'feed', value: 'ocean' }).mask, 'missing');
});

test('channel stacking on a Zarr store with two variables on one grid', async () => {
  const d = await describe(ZARR);
  const names = d.variables.map((v) => v.name).sort();
  assert.deepEqual(names, ['tos', 'tos_packed']);
  const e0 = initialDraft(d);
  const first = choicesOf(e0, d).variable;
  const other = names.find((n) => n !== first)!;
  assert.deepEqual(stackable(d, first).map((v) => v.name), [other]);
  const e1 = applyChange(e0, d, { key: 'channels', value: [other] });
  assert.deepEqual(e1.data.variables, [first, other]);
  assert.equal(e1.data.variable, undefined, 'several variables are written as "variables"');
  assert.deepEqual(choicesOf(e1, d).channels, [other]);
  const e2 = applyChange(e1, d, { key: 'channels', value: [] });
  assert.equal(e2.data.variable, first);
  assert.equal(e2.data.variables, undefined);
  assert.deepEqual(applyChange(e0, d, { key: 'variable', value: other }).data.variable, other);
});

test('problems land on the control whose key they name', async () => {
  const d = await describe(NC, mlpEntry());
  const expect: [string | undefined, string][] = [
    ['data.variable', 'variable'], ['data.variables[1]', 'channels'], ['data.file', 'variable'],
    ['data.select.time', 'time'], ['input.sampleDim', 'time'],
    ['input.standardize', 'standardize'], ['input.standardize.period', 'standardize'], ['input.clip', 'clip'],
    ['mask', 'mask'], ['input.fillValue', 'fill'], ['input.wrapLon', 'wrapLon'], ['input.coarsen', 'coarsen'],
    ['input.flatten', 'feed'], ['input.sequence.time', 'feed'], ['input.layout', 'feed'],
    ['coords.lat', 'general'], [undefined, 'general'],
  ];
  for (const [path, field] of expect) assert.equal(fieldOf(path, d), field, String(path));
  const byField = problemsByField([
    { message: 'the model expects 89x180, the variable is 180x360 (lat x lon): choose the 2-degree file or a coarsening factor of 2', path: 'input.coarsen', severity: 'error' },
    { message: 'the base period 2030-01:2040-12 is outside the time axis', path: 'input.standardize.period', severity: 'error' },
    { message: 'no lat/lon coordinates', severity: 'warning' },
  ], d);
  assert.deepEqual([...byField.keys()].sort(), ['coarsen', 'general', 'standardize']);
  assert.match(byField.get('coarsen')![0].message, /coarsening factor of 2/);
});

test('the fits line names both shapes, the samples and their dates', () => {
  assert.equal(fitLine({ fits: true, modelShape: [89, 180], dataShape: [89, 180], samples: 107, firstTime: '2010-01-01', lastTime: '2018-12-01' }), 'fits: 89x180 -> model 89x180, 107 samples 2010-01 .. 2018-12');
  assert.equal(fitLine({ fits: false, modelShape: [9768], dataShape: [10988], samples: 1 }), 'does not fit: 10988 -> model 9768, 1 sample');
  assert.equal(fitLine({ fits: true, modelShape: [-1, 10988], dataShape: [10988], samples: 128, firstTime: '2010-01-01', lastTime: '2020-08-01' }), 'fits: 10988 -> model 10988, 128 samples 2010-01 .. 2020-08', 'a symbolic batch dim is not shown');
  assert.equal(fitLine({ fits: false, modelShape: [-1, 12], dataShape: [36, 12], samples: 2 }), 'does not fit: 36x12 -> model ?x12, 2 samples');
  assert.equal(isReadyInputs('/w/x_nhwc.npy'), true);
  assert.equal(isReadyInputs(NC), false);
  assert.equal(isReadyInputs(ZARR), false);
});

test("the form's messages are validated both ways: a draft needs its data file, and stays small", () => {
  const entry = mlpEntry();
  assert.ok(parseToHost({ type: 'planInput', requestId: 'plan-1', model: '/m/model.h5', entry }));
  assert.ok(parseToHost({ type: 'saveEntry', requestId: 'save-1', model: '/m/model.h5', entry }));
  assert.ok(parseToHost({ type: 'describeData', requestId: 'd-1', file: NC }));
  assert.ok(parseToHost({ type: 'explain', requestId: 'e', purpose: 'main', params: { model: '/m/model.h5', entry } }));
  assert.equal(parseToHost({ type: 'planInput', requestId: 'p', model: '/m', entry: { data: {} } }), undefined, 'no data file');
  assert.equal(parseToHost({ type: 'planInput', requestId: 'p', model: '/m', entry: { ...entry, input: [] } }), undefined, 'input is an object');
  assert.equal(parseToHost({ type: 'explain', requestId: 'e', purpose: 'main', params: { model: '/m', entry: { data: { file: '' } } } }), undefined);
  const huge = { ...entry, classNames: Array.from({ length: 20000 }, (_, i) => `class ${i}`) };
  assert.equal(parseToHost({ type: 'saveEntry', requestId: 's', model: '/m', entry: huge }), undefined, 'a draft of more than 64 KiB');
  assert.ok(parseToWebview({ type: 'openDataForm', path: NC, model: 'file:///m/model.h5' }));
  assert.ok(parseToWebview({ type: 'entrySaved', requestId: 's', saved: { project: '/w/lrp-lens.json', name: 'm', index: 0, created: true, replaced: false } }));
  const plan = { fits: true, problems: [], modelShape: [2, 2], samples: 1, entry, preview: { map: encodeFloat32(new Float32Array(4), [2, 2]), diverging: true, sample: 0 } };
  assert.ok(parseToWebview({ type: 'planned', requestId: 'p', plan }));
  assert.equal(parseToWebview({ type: 'planned', requestId: 'p', plan: { ...plan, preview: { ...plan.preview, map: { ...plan.preview.map, shape: [3, 2] } } } }), undefined, 'the map holds what its shape says');
  assert.equal(parseToWebview({ type: 'planned', requestId: 'p', plan: { ...plan, problems: [{ path: 'input' }] } }), undefined, 'a problem has a message');
});

// ------------------------------------------------------------------ the form in the panel (headless Chromium)

const haveChromium = existsSync(CHROMIUM);
let browser: Browser | undefined;
after(async () => { await browser?.close(); });

test('in the panel: the form starts from the defaults, plans on every change, shows problems at their field, draws the anomaly preview diverging, explains the draft and saves it', { skip: haveChromium ? false : `no Chromium at ${CHROMIUM}` }, async () => {
  await bundle();
  browser = await launch();
  const sc = await sstScenario({ months: [0] });
  const model = sc.models[0].uri;
  const desc = await describe(NC, mlpEntry());
  // The server's plan for the preview: the real ERSSTv5 anomaly of the first month (NaN on land), and the
  // shape message for a coarsening the model does not take.
  const anomaly = sstAnomaly(sc.sst, 0);
  const H = sc.height;
  const W = sc.width;
  const mask = sc.mask;
  const plan = async (_m: string, entry: EntryDraft): Promise<PlanInputResult> => {
    const coarsen = (entry.input?.coarsen as number | undefined) ?? 1;
    const fits = coarsen === 1;
    return {
      fits, modelShape: [H, W], dataShape: [Math.floor(H / coarsen), Math.floor(W / coarsen)], samples: 128, firstTime: '2010-01-01', lastTime: '2020-08-01', entry,
      problems: fits ? [] : [{ message: `the model expects ${H}x${W}, coarsening by ${coarsen} gives ${Math.floor(H / coarsen)}x${Math.floor(W / coarsen)}: use a coarsening factor of 1`, path: 'input.coarsen', severity: 'error' }],
      preview: { map: encodeFloat32(anomaly, [H, W]), coords: { lat: sc.sst.lat, lon: sc.sst.lon }, mask: encodeBytes(mask), units: 'degC', diverging: true, time: '2010-01-01', sample: 0 },
    };
  };
  const saved: EntryDraft[] = [];
  const p = await openPanel(browser, 'light', {
    ...sc,
    dataForm: {
      describe: async () => desc,
      plan,
      save: async (_m, entry) => { saved.push(entry); return { project: '/w/lrp-lens.json', name: 'nino34', index: 0, created: true, replaced: false }; },
    },
  });
  await p.waitFor('rendered', 0);
  const planned = (after: number) => p.waitFor('planInput', after) as Promise<Extract<ToHost, { type: 'planInput' }>>;
  const n0 = p.received.length;
  await p.send({ type: 'openDataForm', path: NC, model });
  const described = await p.waitFor('describeData', n0);
  assert.equal(described.file, NC);
  const first = await planned(n0);
  assert.deepEqual(first.entry, mlpEntry(), 'the first plan is of the suggested entry');
  await p.page.waitForFunction(() => Number(document.body.dataset.previewDrawn ?? 0) > 0);
  const form = p.page.locator('#dataForm');
  assert.ok(await form.isVisible());
  assert.match(await p.page.locator('#dfFit').innerText(), /^fits: 89x180 -> model 89x180, 128 samples 2010-01 \.\. 2020-08$/);
  assert.equal(await p.page.evaluate(() => document.body.dataset.previewKind), 'diverging');
  const value = (id: string) => p.page.evaluate((i) => (document.getElementById(i) as HTMLElement & { value: string }).value, id);
  assert.equal(await value('dfStandardize'), 'monthly');
  assert.equal(await value('dfFeed'), 'ocean');
  assert.equal(await value('dfPeriodStart'), '2010');
  assert.equal(await value('dfPeriodEnd'), '2017');

  // The preview: the cell of largest |anomaly| is the diverging map's end colour, red above 0, blue below.
  const lim = relevanceLimits(anomaly, { symmetric: true, mask });
  assert.equal(lim.vmin, -lim.vmax, 'centred on 0');
  let hot = -1;
  let cold = -1;
  for (let i = 0; i < anomaly.length; i++) {
    if (mask[i]) continue;
    if (hot < 0 || anomaly[i] > anomaly[hot]) hot = i;
    if (cold < 0 || anomaly[i] < anomaly[cold]) cold = i;
  }
  mkdirSync(join(REPO, 'out', 'screenshots'), { recursive: true });
  const png = await p.page.screenshot({ fullPage: true, path: join(REPO, 'out', 'screenshots', 'panel-data-form.png') });
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const at = async (i: number) => {
    const [x, y] = await p.page.evaluate(([r, c]) => (window as unknown as { __lrpDataForm: { cellCentre(r: number, c: number): [number, number] } }).__lrpDataForm.cellCentre(r, c), [Math.floor(i / W), i % W] as const);
    const o = (Math.floor(y) * info.width + Math.floor(x)) * info.channels;
    return [data[o], data[o + 1], data[o + 2]];
  };
  const red = await at(hot);
  const blue = await at(cold);
  assert.ok(red[0] > 2 * red[2], `warmest anomaly ${anomaly[hot].toFixed(2)} drawn red: ${red}`);
  assert.ok(blue[2] > 2 * blue[0], `coldest anomaly ${anomaly[cold].toFixed(2)} drawn blue: ${blue}`);
  const extreme = Math.abs(anomaly[hot]) >= Math.abs(anomaly[cold]) ? { got: red, idx: LUT_MAX } : { got: blue, idx: 0 };
  assert.ok(extreme.got.every((v, k) => Math.abs(v - colorOf(DIVERGING, extreme.idx)[k]) <= 2), `the largest |anomaly| is the end colour: ${extreme.got}`);
  assert.match((await p.page.locator('#dfPreviewBar').getAttribute('aria-label'))!, /degC \(centred on 0\): from -(\S+) \(blue\) to \+\1 \(red\)/);

  // A control's change is planned (debounced), and the plan's problem is shown at that control.
  let n = p.received.length;
  await p.page.evaluate(() => { const f = document.getElementById('dfCoarsen') as HTMLElement & { value: string }; f.value = '2'; f.dispatchEvent(new Event('change')); });
  const second = await planned(n);
  assert.equal(second.entry.input!.coarsen, 2);
  await p.page.waitForFunction(() => /coarsening by 2/.test(document.getElementById('dfProblem-coarsen')?.textContent ?? ''));
  assert.equal(await p.page.locator('#dfProblem-standardize').innerText(), '', 'only the named field shows it');
  assert.match(await p.page.locator('#dfFit').innerText(), /^does not fit: 44x90 -> model 89x180/);
  n = p.received.length;
  await p.page.evaluate(() => { const f = document.getElementById('dfCoarsen') as HTMLElement & { value: string }; f.value = '1'; f.dispatchEvent(new Event('change')); });
  await planned(n);
  await p.page.waitForFunction(() => (document.getElementById('dfProblem-coarsen')?.textContent ?? '') === '');

  // Explain: the draft goes with the request (no .npy samples).
  n = p.received.length;
  await p.page.locator('#dfExplain').click();
  const ex = (await p.waitFor('explain', n)) as Extract<ToHost, { type: 'explain' }>;
  assert.deepEqual(ex.params.entry, mlpEntry());
  assert.equal(ex.params.samples?.data, undefined);
  await p.waitFor('rendered', n);

  // Save: the entry is written; the following explains use it (no draft in the request).
  n = p.received.length;
  await p.page.locator('#dfSave').click();
  await p.waitFor('saveEntry', n);
  assert.deepEqual(saved, [mlpEntry()]);
  await p.page.waitForFunction(() => /lrp-lens\.json/.test(document.getElementById('status')?.textContent ?? ''));
  assert.match(await p.page.locator('#dfFit').innerText(), /saved to \/w\/lrp-lens\.json/);
  n = p.received.length;
  await p.page.locator('#recompute').click();
  const again = (await p.waitFor('explain', n)) as Extract<ToHost, { type: 'explain' }>;
  assert.equal(again.params.entry, undefined, 'after saving, lrp-lens.json has the entry');
  assert.deepEqual(await p.cspViolations(), []);
  assert.deepEqual(p.logs.filter((l) => l.startsWith('pageerror')), []);
});
