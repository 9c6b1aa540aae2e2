/**
 * The sequence view in headless Chromium (sequence-view.ts): the ESN sample fed ERSSTv5 column by column
 * (its lrp-lens.json entry, explained as the server does) shows the time x feature map with its per-step
 * bars AND the same relevance on the globe; a recurrent benchmark model's data-check findings (the real
 * checks) add the overlays: LRP213's faded steps shaded on the step chart and on the time x feature map
 * (and gone when unticked, also after a reload of the panel), LRP212's feeding axis as an arrow over the
 * map, LRP216's reversed-order maps on demand with both accuracies.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { bundle, launch, openPanel, CHROMIUM, type PanelPage, type Scenario } from './panel-harness.js';
import { encodeFloat32, type PanelResult, type PanelState } from './messages.js';
import { SAMPLES } from '../../server/src/testing/paths.js';
import { toFloat32 } from '../../server/src/core/array.js';
import { useBackend } from '../../server/src/core/backend.js';
import { loadModel } from '../../server/src/core/model/load.js';
import { explainGraph } from '../../server/src/core/lrp/engine.js';
import { findEntry, readProject } from '../../server/src/core/data/project.js';
import { explain, openSession } from '../../server/src/core/session/session.js';
import { explainResult } from '../../server/src/lsp/explain-job.js';
import { sequenceInfo } from '../../server/src/lsp/sequence-result.js';
import { findingSummary } from '../../server/src/lsp/analyzer.js';
import { measureRecurrent, recurrentTestData } from '../../samples/benchmark/recurrent-cases.js';
import { buildRecurrent } from '../../samples/benchmark/recurrent-models.js';

const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}`;
let browser: Browser;

before(async () => {
  if (skip) return;
  await bundle();
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

function model(file: string, name: string): Scenario['models'][number] {
  return { uri: pathToFileURL(file).href, file, name, state: 'ok', inputs: [], outputs: [], layers: [], totalParams: 0, findings: [] };
}

/** Distinct colours on a canvas (a drawn map has many, a blank one one or two). */
async function colours(p: PanelPage, selector: string): Promise<number[]> {
  return p.page.locator(selector).evaluateAll((cs) => cs.map((c) => {
    const cv = c as HTMLCanvasElement;
    const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
    const set = new Set<number>();
    for (let i = 0; i < d.length; i += 4) set.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    return set.size;
  }));
}

/** The step chart's pixel under map column `col`, halfway down its plot (8..110 CSS px; device scale 1). */
async function chartPixel(p: PanelPage, col: number): Promise<number[]> {
  const [x] = await p.page.evaluate((c) => (window as unknown as { __lrpPanel: { cellCentre(w: string, r: number, c: number): [number, number] } }).__lrpPanel.cellCentre('rel', 0, c), col);
  return p.page.locator('#stepChart').evaluate((c, px) => {
    const cv = c as HTMLCanvasElement;
    const box = cv.getBoundingClientRect();
    return Array.from(cv.getContext('2d')!.getImageData(Math.round(px - box.left), 30, 1, 1).data);
  }, x);
}

/**
 * The marks canvas over the relevance map at map cell (row, col): its RGBA (transparent where nothing is
 * marked). Found through the map's own cell geometry, so this also checks the marks line up with the map.
 */
async function marksPixel(p: PanelPage, row: number, col: number): Promise<number[]> {
  const [x, y] = await p.page.evaluate(([r, c]) => (window as unknown as { __lrpPanel: { cellCentre(w: string, r: number, c: number): [number, number] } }).__lrpPanel.cellCentre('rel', r, c), [row, col] as const);
  return p.page.locator('#seqMapMarks').evaluate((c, [px, py]) => {
    const cv = c as HTMLCanvasElement;
    const box = cv.getBoundingClientRect();
    return Array.from(cv.getContext('2d')!.getImageData(Math.floor(px - box.left), Math.floor(py - box.top), 1, 1).data);
  }, [x, y] as const);
}

/** Whether the marks canvas has the feeding arrow's colour (#7b3fbf) anywhere in the plot's top 20 px, at map column `col`. */
async function arrowAt(p: PanelPage, col: number): Promise<boolean> {
  const [x] = await p.page.evaluate((c) => (window as unknown as { __lrpPanel: { cellCentre(w: string, r: number, c: number): [number, number] } }).__lrpPanel.cellCentre('rel', 0, c), col);
  return p.page.locator('#seqMapMarks').evaluate((c, px) => {
    const cv = c as HTMLCanvasElement;
    const d = cv.getContext('2d')!.getImageData(Math.floor(px - cv.getBoundingClientRect().left), 0, 1, 26).data;
    for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - 0x7b) < 12 && Math.abs(d[i + 1] - 0x3f) < 12 && Math.abs(d[i + 2] - 0xbf) < 12 && d[i + 3] > 200) return true;
    return false;
  }, x);
}

test('a field fed column by column: the time x feature map, the per-step bars and the same relevance on the globe', { skip, timeout: 180_000 }, async () => {
  await useBackend('wasm');
  const file = join(SAMPLES, 'models/esn_columns/model.onnx');
  const project = await readProject(join(SAMPLES, 'lrp-lens.json'));
  const entry = findEntry(project, file);
  const session = await openSession({ model: await loadModel(file), data: { kind: 'project', project, entry }, entry });
  const sc: Scenario = {
    models: [model(file, 'esn_columns')],
    composites: ['epsilon'],
    explain: async (q) => {
      const e = await explain(session, { maxSamples: 2 });
      return { ...explainResult(session, e, { file, params: { model: file } }, 'wasm', Date.now()), jobId: q.jobId ?? '', cached: false } as PanelResult;
    },
  };
  const p = await openPanel(browser, 'light', sc, { height: 2200 });
  await p.waitFor('rendered', 0);
  await p.page.waitForTimeout(200);
  const res = p.results[0];
  assert.equal(res.sequence?.timeDim, 'lon');
  assert.ok(await p.page.locator('#figSteps').isVisible(), 'the per-step chart');
  assert.ok(await p.page.locator('#figGlobe').isVisible(), 'the globe');
  const cap = (await p.page.locator('#figGlobeCap').textContent())!;
  assert.match(cap, /72 steps along 'lon' put back on the 24 × 72 grid/);
  const [rel] = await colours(p, '#boxRel canvas');
  const [globe] = await colours(p, '#figGlobeBox canvas');
  assert.ok(rel > 50 && globe > 50, `both maps drawn: ${rel} and ${globe} colours`);
  // Top to bottom: the relevance map, its step bars, the globe.
  const yRel = (await p.page.locator('#boxRel canvas').boundingBox())!.y;
  const ySteps = (await p.page.locator('#stepChart').boundingBox())!.y;
  const yGlobe = (await p.page.locator('#figGlobeBox canvas').boundingBox())!.y;
  assert.ok(yRel < ySteps && ySteps < yGlobe, `${yRel} < ${ySteps} < ${yGlobe}`);
  // No recurrent findings yet: the overlay controls are there but off.
  for (const id of ['ovSeqFeeding', 'ovSeqFading', 'ovSeqZero', 'ovSeqReversed']) assert.notEqual(await p.page.locator(`#${id}`).getAttribute('disabled'), null, id);
  assert.deepEqual(await p.cspViolations(), []);
  await p.page.context().close();
});

test('the recurrent checks\' overlays: faded steps shaded (and not when unticked), the feeding axis, the reversed-order maps with both accuracies', { skip, timeout: 180_000 }, async () => {
  await useBackend('wasm');
  const variant = 'rnn-short';
  const measured = await measureRecurrent({ variant, composite: 'epsilon' }, 2, 8);
  const { graph } = buildRecurrent(variant, 2);
  const x = recurrentTestData(variant, 2);
  const sc: Scenario = {
    models: [model('/tmp/rnn-short.json', variant)],
    composites: ['epsilon'],
    explain: async (q) => {
      const e = explainGraph(graph, x, { composite: 'epsilon', target: { type: 'predicted' }, init: 'onehot' });
      const rel = e.relevance.data as Float32Array;
      return {
        jobId: q.jobId ?? '', model: q.model, composite: { name: 'epsilon' }, target: e.targets.map((t) => t.index), samples: [0, 1],
        relevance: encodeFloat32(rel, e.relevance.shape), input: encodeFloat32(toFloat32(x), x.shape), outputs: encodeFloat32(e.output.data, e.output.shape),
        conservation: { outputRelevance: [1, 1], inputRelevance: e.relevanceSum, relativeError: [], maxRelativeError: 0 },
        backend: 'wasm', durationMs: 0, cached: false, layout: e.layout,
        sequence: sequenceInfo(graph, e.relevance.shape, e.layout, undefined, rel, toFloat32(x)),
      };
    },
  };
  const p = await openPanel(browser, 'light', sc, { height: 2200 });
  await p.waitFor('rendered', 0);
  const midRow = 8;
  const fading = measured.findings.find((f) => f.code === 'LRP213')!;
  const faded = fading.data!.faded as number[];
  const live = [...Array(fading.data!.steps as number).keys()].filter((t) => !faded.includes(t) && t > faded[faded.length - 1]);
  const before = await chartPixel(p, faded[0]);
  // The data check's findings arrive (as checkData's do): the overlays come on.
  await p.send({ type: 'findings', requestId: 'check', findings: measured.findings.map(findingSummary) });
  await p.page.waitForTimeout(300);
  for (const id of ['ovSeqFeeding', 'ovSeqFading', 'ovSeqReversed']) assert.equal(await p.page.locator(`#${id}`).getAttribute('disabled'), null, `${id} enabled`);
  assert.notEqual(await p.page.locator('#ovSeqZero').getAttribute('disabled'), null, 'no LRP215 finding: off');
  const summary = (await p.page.locator('#stepSummary').textContent())!;
  assert.ok(summary.includes(`${faded.length} faded steps shaded (LRP213)`) && summary.includes('Stripes along the feeding axis (LRP212)'), summary);
  // A faded step's column is shaded grey over the background; it was not before.
  const shaded = await chartPixel(p, faded[0]);
  const grey = (px: number[]) => Math.abs(px[0] - px[1]) < 8 && Math.abs(px[1] - px[2]) < 8 && px[3] > 0 && px[0] < 235;
  assert.ok(grey(shaded) && !grey(before), `faded step ${faded[0]}: ${shaded} (before ${before})`);
  assert.ok(!grey(await chartPixel(p, live[0])), `live step ${live[0]} is not shaded`);
  // The same faded steps shaded on the time x feature map itself, every feature of them; the live steps clear.
  for (const t of faded) assert.ok((await marksPixel(p, midRow, t))[3] > 0, `map column ${t} shaded`);
  assert.ok((await marksPixel(p, 0, faded[0]))[3] > 0 && (await marksPixel(p, 15, faded[0]))[3] > 0, 'over every feature');
  for (const t of live) assert.equal((await marksPixel(p, midRow, t))[3], 0, `live map column ${t} clear`);
  // LRP212: the feeding direction as an arrow along the map's top edge, from the first step to the last.
  assert.ok(await arrowAt(p, 1) && await arrowAt(p, live[live.length - 1] - 1), 'the arrow spans the map');
  await p.page.locator('#ovSeqFading').click({ force: true });
  await p.page.waitForTimeout(200);
  assert.ok(!grey(await chartPixel(p, faded[0])), 'unticked: no shading');
  assert.equal((await marksPixel(p, midRow, faded[0]))[3], 0, 'unticked: the map column is clear too');
  assert.ok(await arrowAt(p, 1), 'the other overlays stay');
  // The toggles are kept in the panel's state (the host keeps it across reloads).
  const saved = [...p.received].reverse().find((m) => m?.type === 'saveState') as { state: PanelState & { sequenceOverlays?: Record<string, boolean> } } | undefined;
  assert.deepEqual(saved?.state.sequenceOverlays, { feeding: true, fading: false, zero: true, reversed: false });
  // On demand: the mean maps of both feeding orders, with the accuracies the check measured.
  assert.ok(!(await p.page.locator('#figReversed').isVisible().catch(() => false)));
  await p.page.locator('#ovSeqReversed').click({ force: true });
  await p.page.locator('#figReversed').waitFor();
  assert.deepEqual((await colours(p, '#figReversedBox canvas')).map((c) => c > 10), [true, true]);
  const order = measured.findings.find((f) => f.code === 'LRP216')!;
  const text = (await p.page.locator('#figReversedText').textContent())!;
  const pc = (v: unknown) => `${((v as number) * 100).toFixed(1)} %`;
  assert.ok(text.includes(`Accuracy ${pc(order.data!.accuracy)} in order, ${pc(order.data!.reversedAccuracy)} reversed`), text);
  assert.deepEqual(await p.cspViolations(), []);
  const kept = [...p.received].reverse().find((m) => m?.type === 'saveState') as { state: PanelState };
  await p.page.context().close();

  // A reload of the panel with the kept state: fading stays off, the reversed maps on.
  const q = await openPanel(browser, 'light', sc, { height: 2200, state: kept.state });
  await q.waitFor('rendered', 0);
  await q.send({ type: 'findings', requestId: 'check', findings: measured.findings.map(findingSummary) });
  await q.page.waitForTimeout(300);
  assert.equal(await q.page.locator('#ovSeqFading').evaluate((el) => (el as unknown as { checked: boolean }).checked), false);
  assert.equal((await marksPixel(q, midRow, faded[0]))[3], 0, 'still no shading after the reload');
  assert.ok(!grey(await chartPixel(q, faded[0])));
  assert.ok(await q.page.locator('#figReversed').isVisible(), 'the reversed-order maps are still on');
  await q.page.context().close();
});

test('LRP215\'s zero first step outlined on the time x feature map (a first step cropped before the LSTM), and not when unticked', { skip, timeout: 180_000 }, async () => {
  await useBackend('wasm');
  const variant = 'lstm-cropped';
  const measured = await measureRecurrent({ variant, composite: 'epsilon' }, 2, 8);
  const { graph } = buildRecurrent(variant, 2);
  const x = recurrentTestData(variant, 2);
  const sc: Scenario = {
    models: [model('/tmp/lstm-cropped.json', variant)],
    composites: ['epsilon'],
    explain: async (q) => {
      const e = explainGraph(graph, x, { composite: 'epsilon', target: { type: 'predicted' }, init: 'onehot' });
      const rel = e.relevance.data as Float32Array;
      return {
        jobId: q.jobId ?? '', model: q.model, composite: { name: 'epsilon' }, target: e.targets.map((t) => t.index), samples: [0, 1],
        relevance: encodeFloat32(rel, e.relevance.shape), input: encodeFloat32(toFloat32(x), x.shape),
        conservation: { outputRelevance: [1, 1], inputRelevance: e.relevanceSum, relativeError: [], maxRelativeError: 0 },
        backend: 'wasm', durationMs: 0, cached: false, layout: e.layout,
        sequence: sequenceInfo(graph, e.relevance.shape, e.layout, undefined, rel, toFloat32(x)),
      };
    },
  };
  const p = await openPanel(browser, 'light', sc, { height: 2200 });
  await p.waitFor('rendered', 0);
  assert.ok(measured.findings.some((f) => f.code === 'LRP215'), 'the cropped LSTM has a zero first step');
  await p.send({ type: 'findings', requestId: 'check', findings: measured.findings.map(findingSummary) });
  await p.page.waitForTimeout(300);
  const red = (col: number) => colourInColumn(p, col, [0xc0, 0, 0]);
  assert.ok(await red(0), 'step 0 outlined in red on the map');
  assert.ok(!(await red(5)), 'step 5 is not');
  await p.page.locator('#ovSeqZero').click({ force: true });
  await p.page.waitForTimeout(200);
  assert.ok(!(await red(0)), 'unticked: no outline');
  await p.page.context().close();
});

/** Whether the marks canvas has colour `rgb` (opaque) anywhere within map column `col`, halfway down the map. */
async function colourInColumn(p: PanelPage, col: number, rgb: [number, number, number]): Promise<boolean> {
  const cell = (c: number) => p.page.evaluate((cc) => (window as unknown as { __lrpPanel: { cellCentre(w: string, r: number, c: number): [number, number] } }).__lrpPanel.cellCentre('rel', 8, cc), c);
  const [x0, y] = await cell(col);
  const [x1] = await cell(col + 1);
  const half = (x1 - x0) / 2;
  return p.page.locator('#seqMapMarks').evaluate((c, [a, b, py, want]) => {
    const cv = c as HTMLCanvasElement;
    const box = cv.getBoundingClientRect();
    const left = Math.floor(a - box.left), width = Math.max(1, Math.ceil(b - a));
    const d = cv.getContext('2d')!.getImageData(left, Math.floor(py - box.top), width, 1).data;
    for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - want[0]) < 16 && Math.abs(d[i + 1] - want[1]) < 16 && Math.abs(d[i + 2] - want[2]) < 16 && d[i + 3] > 200) return true;
    return false;
  }, [x0 - half, x0 + half, y, rgb] as const);
}
