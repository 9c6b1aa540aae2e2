/**
 * The heat-map panel in headless Chromium, fed real results (the LRP engine on the Zennit reference CNN
 * and on ERSSTv5 sea-surface temperatures). Screenshots go to out/screenshots/; pixel checks assert
 * what must hold; render times are measured and written to out/screenshots/render-timings.json.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import type { Browser } from 'playwright-core';
import { REAL, REPO } from '../../server/src/testing/paths.js';
import { DIVERGING, LUT_MAX, colorOf, formatValue, relevanceLimits, sharedLimits, HATCH_RGB } from '../../server/src/core/render/colormap.js';
import { cellRaster } from '../../server/src/core/render/raster.js';
import { renderPngRequest } from '../../server/src/core/render/png-request.js';
import { bundle, launch, openPanel, cnnScenario, sstScenario, CHROMIUM, type PanelPage, type Scenario } from './panel-harness.js';
import { decodeFloat32, encodeFloat32, type PanelResult } from './messages.js';
import { toMaps } from './maps.js';
import { loadSst, type SstField } from '../../server/src/testing/sst-fixtures.js';
import { readNpyFile } from '../../server/src/testing/arrays.js';
import { toFloat32 } from '../../server/src/core/array.js';
import { useBackend } from '../../server/src/core/backend.js';
import { loadModel } from '../../server/src/core/model/load.js';
import { explainGraph } from '../../server/src/core/lrp/engine.js';

const SHOTS = join(REPO, 'out', 'screenshots');
const haveChromium = existsSync(CHROMIUM);
let browser: Browser;
let sst: SstField;
const timings: Record<string, unknown> = {};

before(async () => {
  if (!haveChromium) return;
  mkdirSync(SHOTS, { recursive: true });
  await bundle();
  browser = await launch();
  sst = await loadSst();
});

after(async () => {
  await browser?.close();
  if (Object.keys(timings).length) writeFileSync(join(SHOTS, 'render-timings.json'), JSON.stringify(timings, null, 2) + '\n');
});

const opts = { skip: haveChromium ? false : `no Chromium at ${CHROMIUM}` };

/** RGBA of a page screenshot, for pixel checks at page coordinates (device scale 1). */
async function pixels(p: PanelPage, file?: string): Promise<{ at(x: number, y: number): number[]; width: number }> {
  const png = await p.page.screenshot({ fullPage: true, path: file });
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    at: (x, y) => {
      const o = (Math.floor(y) * info.width + Math.floor(x)) * info.channels;
      return [data[o], data[o + 1], data[o + 2]];
    },
  };
}

const near = (a: number[], b: number[], tol = 2) => a.every((v, i) => Math.abs(v - b[i]) <= tol);

function mapsOf(r: PanelResult) {
  return toMaps(decodeFloat32(r.relevance), r.relevance.shape, r.layout, 'sum');
}

function argmax(m: Float32Array): number {
  let k = 0;
  for (let i = 1; i < m.length; i++) if (m[i] > m[k] || Number.isNaN(m[k])) k = i;
  return k;
}

async function cellCentre(p: PanelPage, which: 'rel' | 'input' | 'A' | 'B', row: number, col: number): Promise<[number, number]> {
  // Page coordinates (the screenshot is full-page; the page does not scroll in these tests).
  return p.page.evaluate(([w, r, c]) => (window as unknown as { __lrpPanel: { cellCentre(w: string, r: number, c: number): [number, number] } }).__lrpPanel.cellCentre(w as string, r as number, c as number), [which, row, col] as const);
}

async function waitRendered(p: PanelPage, after: number): Promise<number> {
  const m = await p.waitFor('rendered', after);
  await p.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
  return m.ms;
}

test('light theme: the strongest positive cell is drawn in the positive colour, the colour bar is symmetric', opts, async () => {
  const sc = await cnnScenario();
  const p = await openPanel(browser, 'light', sc);
  await waitRendered(p, 0);
  const res = p.results[0];
  const maps = mapsOf(res);
  const rel = maps.maps[0];
  const best = argmax(rel);
  const [row, col] = [Math.floor(best / maps.width), best % maps.width];
  const lim = relevanceLimits(rel);
  const expected = Array.from(cellRaster({ width: maps.width, height: maps.height, mode: 'relevance', relevance: rel, relLimits: lim }).subarray(best * 4, best * 4 + 3));
  const px = await pixels(p, join(SHOTS, 'panel-light.png'));
  const [x, y] = await cellCentre(p, 'rel', row, col);
  const got = px.at(x, y);
  assert.ok(near(got, expected), `strongest cell (${row}, ${col}) drawn ${got}, expected ${expected}`);
  assert.ok(got[0] > 2 * got[2] && got[0] > 2 * got[1], `positive colour is red: ${got}`);
  if (rel[best] === lim.vmax) assert.ok(near(got, colorOf(DIVERGING, LUT_MAX)));

  // Colour bar: red end at the top, blue at the bottom, white in the middle, labels +-m.
  const box = (await p.page.locator('#barRel').boundingBox())!;
  const label = (await p.page.locator('#barRel').getAttribute('aria-label'))!;
  const lims = [...label.matchAll(/from (\S+) .* to (\S+) \(red\)/g)][0];
  assert.ok(lims, label);
  assert.equal(Number(lims[1]), -Number(lims[2]), `symmetric limits in "${label}"`);
  assert.equal(lims[2], formatValue(lim.vmax));
  const len = Math.round(box.height - 6 - 26);
  const bx = box.x + 4 + 8;
  assert.ok(near(px.at(bx, box.y + 6 + 1), colorOf(DIVERGING, LUT_MAX), 6), `top of bar ${px.at(bx, box.y + 7)}`);
  assert.ok(near(px.at(bx, box.y + 6 + len - 2), colorOf(DIVERGING, 0), 6), `bottom of bar ${px.at(bx, box.y + 4 + len)}`);
  assert.ok(near(px.at(bx, box.y + 6 + (len - 1) / 2), [255, 255, 255], 6), `middle of bar ${px.at(bx, box.y + 6 + (len - 1) / 2)}`);
  // Mirrored rows are equally far from white (the map is symmetric about zero in lightness).
  for (const f of [0.1, 0.25, 0.4]) {
    const top = px.at(bx, box.y + 6 + f * (len - 1));
    const bot = px.at(bx, box.y + 6 + (1 - f) * (len - 1));
    const l = (c: number[]) => 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    assert.ok(Math.abs(l(top) - l(bot)) < 40, `rows at ${f} and ${1 - f}: ${top} vs ${bot}`);
    assert.ok(top[0] > top[2] && bot[2] > bot[0], 'red above zero, blue below');
  }

  // Values under the cursor: the mouse, then the keyboard.
  await p.page.mouse.move(x, y);
  const readout = await p.page.locator('#readout').textContent();
  assert.ok(readout?.includes(`row ${row}, col ${col}`) && readout.includes(`relevance ${formatValue(rel[best])}`), readout ?? '');
  await p.page.locator('#boxRel canvas').focus();
  await p.page.keyboard.press('ArrowLeft');
  const r2 = await p.page.locator('#readout').textContent();
  assert.ok(r2?.includes(`row ${row}, col ${col - 1}`) && r2.includes(formatValue(rel[row * maps.width + col - 1])), r2 ?? '');
  // The canvas's text alternative names the figures.
  const alt = (await p.page.locator('#boxRel canvas').getAttribute('aria-label'))!;
  assert.ok(alt.includes('16 by 32 cells') && alt.includes(formatValue(rel[best])), alt);
  assert.deepEqual(await p.cspViolations(), []);
  await p.page.context().close();
});

test('dark theme overlay: relevance blended over the grey input at the chosen opacity', opts, async () => {
  const sc = await cnnScenario();
  const p = await openPanel(browser, 'dark', sc, { state: { view: 'overlay', opacity: 0.7, composite: 'epsilon' } as never });
  await waitRendered(p, 0);
  const res = p.results[0];
  assert.equal(res.composite.name, 'epsilon');
  const maps = mapsOf(res);
  const inp = toMaps(decodeFloat32(res.input!), res.input!.shape, res.layout, 'first');
  const rel = maps.maps[0];
  const best = argmax(rel);
  const [row, col] = [Math.floor(best / maps.width), best % maps.width];
  const spec = { width: maps.width, height: maps.height, mode: 'overlay' as const, relevance: rel, input: inp.maps[0], relLimits: relevanceLimits(rel), opacity: 0.7,
    inLimits: (() => { let lo = Infinity, hi = -Infinity; for (const v of inp.maps[0]) { lo = Math.min(lo, v); hi = Math.max(hi, v); } return { vmin: lo, vmax: hi }; })() };
  const expected = Array.from(cellRaster(spec).subarray(best * 4, best * 4 + 3));
  const px = await pixels(p, join(SHOTS, 'panel-dark.png'));
  const got = px.at(...(await cellCentre(p, 'rel', row, col)));
  assert.ok(near(got, expected), `overlay cell drawn ${got}, expected ${expected}`);
  assert.equal(await p.page.locator('#figInput').isHidden(), true, 'overlay mode shows one map');
  // The opacity slider re-blends the same cell.
  await p.page.locator('#opacity').fill('25');
  await p.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
  const exp25 = Array.from(cellRaster({ ...spec, opacity: 0.25 }).subarray(best * 4, best * 4 + 3));
  const got25 = (await pixels(p)).at(...(await cellCentre(p, 'rel', row, col)));
  assert.ok(near(got25, exp25), `opacity 0.25: ${got25} vs ${exp25}`);
  assert.ok(!near(got25, expected, 10), 'and the colour changed');
  // Page background follows the theme.
  assert.ok(near(px.at(5, px.width > 0 ? 895 : 0), [0x1f, 0x1f, 0x1f], 3), `dark background ${px.at(5, 895)}`);
  assert.deepEqual(await p.cspViolations(), []);
  await p.page.context().close();
});

test('geographic mode: degrees, coastlines, hatched land on a real 89x180 SST field', opts, async () => {
  const sc = await sstScenario({ months: [71], sst }); // December 2015, a strong El Nino
  const p = await openPanel(browser, 'light', sc, { state: { composite: 'epsilon' } as never });
  const ms = await waitRendered(p, 0);
  timings['89x180 (2-degree ERSSTv5)'] = { firstRenderMs: Number(ms.toFixed(1)) };
  const res = p.results[0];
  const maps = mapsOf(res);
  assert.deepEqual([maps.height, maps.width], [89, 180]);
  const rel = maps.maps[0];
  const best = argmax(rel);
  const [row, col] = [Math.floor(best / 180), best % 180];
  assert.ok(sst.lat[row] >= -5 && sst.lat[row] <= 5 && sst.lon[col] >= 190 && sst.lon[col] <= 240, 'strongest cell lies in the Nino-3.4 box');
  const px = await pixels(p, join(SHOTS, 'panel-geo.png'));
  const got = px.at(...(await cellCentre(p, 'rel', row, col)));
  assert.ok(got[0] > 2 * got[2], `Nino-3.4 cell drawn red: ${got}`);

  // A block of land cells well inland (Sahara, around 20N 20E): hatched, i.e. the no-data grey and
  // the hatch lines both appear; an open-ocean block (South Atlantic, 30S 340E) of zero relevance is
  // plain white.
  const cell = (lat: number, lon: number) => [sst.lat.findIndex((v) => Math.abs(v - lat) < 1.01), sst.lon.findIndex((v) => Math.abs(v - lon) < 1.01)];
  const block = async (lat: number, lon: number) => {
    const [r, c] = cell(lat, lon);
    const [x0, y0] = await cellCentre(p, 'rel', r - 1, c - 1);
    const [x1, y1] = await cellCentre(p, 'rel', r + 1, c + 1);
    const seen = new Map<string, number>();
    for (let y = Math.ceil(y0); y <= y1; y++) for (let x = Math.ceil(x0); x <= x1; x++) { const k = px.at(x, y).join(); seen.set(k, (seen.get(k) ?? 0) + 1); }
    return { r, c, seen };
  };
  const landB = await block(20, 20);
  for (let dr = -1; dr <= 1; dr++) for (let dc = -1; dc <= 1; dc++) assert.ok(Number.isNaN(sst.sst[(landB.r + dr) * 180 + landB.c + dc]), 'the land block is masked in the data');
  // Masked cells keep their relevance colour (so relevance on land stands out) under the hatch lines.
  const li = landB.r * 180 + landB.c;
  const base = Array.from(cellRaster({ width: 180, height: 89, mode: 'relevance', relevance: rel, relLimits: relevanceLimits(rel) }).subarray(li * 4, li * 4 + 3));
  const hatch = base.map((v, i) => Math.round(v * (1 - 0.7) + HATCH_RGB[i] * 0.7));
  const keys = [...landB.seen.keys()].map((k) => k.split(',').map(Number));
  assert.ok(keys.some((k) => near(k, base, 3)), `cell colour ${base} among ${[...landB.seen.keys()].join(' ')}`);
  assert.ok(keys.some((k) => near(k, hatch, 6)), `hatch lines ${hatch} among ${[...landB.seen.keys()].join(' ')}`);
  const sea = await block(-30, 340);
  assert.equal(sea.seen.size, 1, `open ocean block is one colour: ${[...sea.seen.keys()].join(' ')}`);
  assert.ok(near([...sea.seen.keys()][0].split(',').map(Number), [255, 255, 255], 1));
  // Coastlines: dark line pixels inside the map, along the land-sea boundary.
  const box = (await p.page.locator('#boxRel canvas').boundingBox())!;
  let dark = 0;
  for (let y = box.y + 10; y < box.y + box.height - 30; y++) for (let x = box.x + 50; x < box.x + box.width - 10; x++) { const c = px.at(x, y); if (c[0] < 60 && c[1] < 60 && c[2] < 60) dark++; }
  assert.ok(dark > 500, `${dark} coastline pixels`);
  // Degrees in the readout and summary.
  await p.page.mouse.move(...(await cellCentre(p, 'rel', row, col)));
  const readout = (await p.page.locator('#readout').textContent())!;
  assert.match(readout, /\d(\.\d+)?°[NS]? \d+(\.\d+)?°[EW]? · input/);
  assert.match(readout, /input [+-]?\d.* degC/);
  const mask = await p.page.locator('#figMask').textContent();
  assert.match(mask ?? '', /of \|R\| on masked cells \(31\.4 % of cells\)/);
  assert.deepEqual(await p.cspViolations(), []);
  await p.page.context().close();
});

test('comparison view: two composites side by side on one shared colour scale', opts, async () => {
  const sc = await cnnScenario();
  const p = await openPanel(browser, 'light', sc, { state: { composite: 'epsilon-plus', compare: { kind: 'composite', composite: 'epsilon', classB: 1 } } as never });
  await waitRendered(p, 0);
  await p.page.locator('vscode-tab-header', { hasText: 'Compare' }).click();
  const n = p.received.length;
  await p.page.locator('#runCompare').click();
  await waitRendered(p, n);
  await p.page.waitForTimeout(100);
  const [ra, rb] = p.results;
  assert.equal(rb.composite.name, 'epsilon');
  const a = mapsOf(ra).maps[0];
  const b = mapsOf(rb).maps[0];
  const lim = sharedLimits([a, b]);
  const label = (await p.page.locator('#barCompare').getAttribute('aria-label'))!;
  assert.ok(label.includes(`to ${formatValue(lim.vmax)} (red)`) && label.includes(`from ${formatValue(lim.vmin)} `), label);
  const px = await pixels(p, join(SHOTS, 'panel-compare.png'));
  // The same value gets the same colour on both maps: check each map's strongest cell against the shared scale.
  for (const [which, m] of [['A', a], ['B', b]] as const) {
    const k = argmax(m);
    const exp = Array.from(cellRaster({ width: 32, height: 16, mode: 'relevance', relevance: m, relLimits: lim }).subarray(k * 4, k * 4 + 3));
    const got = px.at(...(await cellCentre(p, which, Math.floor(k / 32), k % 32)));
    assert.ok(near(got, exp), `${which}: ${got} vs ${exp}`);
  }
  const summary = (await p.page.locator('#compareSummary').textContent())!;
  assert.match(summary, /Correlation of A and B: -?\d\.\d{3}/);
  // The sanity check against the randomized model runs through the same path.
  await p.page.evaluate(() => {
    const el = document.getElementById('compareKind') as HTMLElement & { value: string };
    el.value = 'randomized';
    el.dispatchEvent(new Event('change'));
  });
  const n2 = p.received.length;
  await p.page.locator('#runCompare').click();
  await waitRendered(p, n2);
  assert.match((await p.page.locator('#capB').textContent())!, /randomized model/);
  await p.page.screenshot({ path: join(SHOTS, 'panel-compare-randomized.png'), fullPage: true });
  // LRP vs a gradient baseline: the panel asks for the baseline by its name in place of a composite.
  await p.page.evaluate(() => {
    const el = document.getElementById('compareKind') as HTMLElement & { value: string };
    el.value = 'gradient-x-input';
    el.dispatchEvent(new Event('change'));
  });
  const n3 = p.received.length;
  await p.page.locator('#runCompare').click();
  const askB = await p.waitFor('explain', n3);
  assert.deepEqual(askB.params.composite, { name: 'gradient-x-input' });
  await waitRendered(p, n3);
  assert.match((await p.page.locator('#capB').textContent())!, /gradient × input/);
  const gsum = (await p.page.locator('#compareSummary').textContent())!;
  assert.match(gsum, /^Each map relative to its own largest \|value\|.*shared scale -1(\.0+)? to \+?1(\.0+)?\. Correlation of A and B: -?\d\.\d{3}/, gsum);
  await p.page.screenshot({ path: join(SHOTS, 'panel-compare-gradient.png'), fullPage: true });
  assert.deepEqual(await p.cspViolations(), []);
  await p.page.context().close();
});

test('data-set view, conservation chart and the PNG export with the same colours', opts, async () => {
  const sc = await cnnScenario();
  const p = await openPanel(browser, 'light', sc, { state: { composite: 'epsilon' } as never });
  await waitRendered(p, 0);
  const res = p.results[0];
  await p.page.locator('vscode-tab-header', { hasText: 'Data set' }).click();
  await p.page.waitForTimeout(200);
  assert.equal(await p.page.locator('#samplesTable tbody tr').count(), res.samples.length);
  assert.equal(await p.page.locator('#classMeans figure').count(), new Set(res.target).size);
  await p.page.screenshot({ path: join(SHOTS, 'panel-dataset.png'), fullPage: true });
  // Choosing a sample in the browser shows it in the sample view.
  await p.page.locator('#samplesTable tbody tr').nth(3).locator('button').click();
  await p.page.waitForTimeout(100);
  assert.match((await p.page.locator('#capRel').textContent())!, /sample 3 /);

  await p.page.locator('vscode-tab-header', { hasText: 'Conservation' }).click();
  await p.page.waitForTimeout(200);
  const layers = res.conservation.perLayer!;
  assert.ok(layers.length >= 4);
  assert.equal(await p.page.locator('#conservationTable tbody tr').count(), layers.length + 1, 'one row per layer and the input');
  // The layer rows' changes add up to what is lost between output and input.
  const lastCell = await p.page.locator('#conservationTable tbody tr').last().locator('td').nth(1).textContent();
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  assert.equal(lastCell, formatValue(mean(res.conservation.inputRelevance)));
  await p.page.screenshot({ path: join(SHOTS, 'panel-conservation.png'), fullPage: true });

  // Export PNG from the sample view: the request renders (core/render/png-request.ts) to the colours on screen.
  await p.page.locator('vscode-tab-header', { hasText: 'Sample' }).click();
  await p.page.waitForTimeout(100);
  const n = p.received.length;
  await p.page.locator('#exportPng').click();
  const req = await p.waitFor('exportPng', n);
  const png = await renderPngRequest(req.view);
  writeFileSync(join(SHOTS, 'export-sample.png'), png);
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const m = mapsOf(res).maps[3];
  const k = argmax(m);
  const scale = Math.max(1, Math.floor(720 / 32));
  const o = ((28 + Math.floor(k / 32) * scale + 2) * info.width + 28 + (k % 32) * scale + 2) * info.channels;
  const exported = [data[o], data[o + 1], data[o + 2]];
  const px = await pixels(p);
  const onScreen = px.at(...(await cellCentre(p, 'rel', Math.floor(k / 32), k % 32)));
  assert.ok(near(exported, onScreen), `export ${exported} vs screen ${onScreen}`);
  assert.deepEqual(await p.cspViolations(), []);
  await p.page.context().close();
});

test('a 720x1440 map renders through one image (time to first render measured)', opts, async () => {
  const sc = await sstScenario({ months: [71], grid: '0.25deg', sst });
  const p = await openPanel(browser, 'dark', sc, { state: { composite: 'epsilon' } as never });
  const ms = await waitRendered(p, 0);
  timings['720x1440 (0.25-degree resample)'] = { firstRenderMs: Number(ms.toFixed(1)) };
  assert.equal(await p.page.locator('#boxRel canvas').count(), 1);
  // Ten canvases for the views plus one per class mean: nothing grows with the number of cells.
  assert.ok(await p.page.locator('canvas').count() <= 10 + new Set(p.results[0].target).size);
  timings['720x1440 (0.25-degree resample)'] = { firstRenderMs: Number(ms.toFixed(1)), phasesMs: JSON.parse((await p.page.locator('body').getAttribute('data-phases'))!) };
  const maps = mapsOf(p.results[0]);
  assert.deepEqual([maps.height, maps.width], [720, 1440]);
  await p.page.screenshot({ path: join(SHOTS, 'panel-720x1440.png'), fullPage: true });
  // Malformed messages from the host are ignored and the panel keeps working.
  await p.send({ type: 'result', requestId: 'nope', purpose: 'main', result: { relevance: { shape: [1, 2], dtype: 'float32', base64: 'x' } } } as never);
  await p.page.evaluate(() => window.postMessage({ type: 'init', models: 'not a list' }, '*'));
  // With fewer screen pixels than cells, the readout names the cell under the pointer, whichever it is.
  await p.page.mouse.move(...(await cellCentre(p, 'rel', 360, 700)));
  const readout = (await p.page.locator('#readout').textContent())!;
  const m = /row (\d+), col (\d+)/.exec(readout)!;
  const [r, c] = [Number(m[1]), Number(m[2])];
  assert.ok(Math.abs(r - 360) <= 2 && Math.abs(c - 700) <= 4, readout);
  const inp = toMaps(decodeFloat32(p.results[0].input!), p.results[0].input!.shape, 'NHWC', 'first').maps[0];
  assert.ok(readout.includes(`input ${formatValue(inp[r * 1440 + c])} degC`), readout);
  assert.deepEqual(p.logs.filter((l) => l.startsWith('pageerror')), []);
  await p.page.context().close();
});

test('high-contrast theme: theme colours for page and axes, map colours unchanged', opts, async () => {
  const sc = await sstScenario({ months: [83], sst }); // December 2016, a weak La Nina
  const p = await openPanel(browser, 'hc', sc, { state: { composite: 'epsilon' } as never });
  await waitRendered(p, 0);
  const px = await pixels(p, join(SHOTS, 'panel-hc.png'));
  assert.ok(near(px.at(5, 5), [0, 0, 0], 1), 'black page');
  // The map's frame is drawn in the theme foreground (white), one pixel outside the plot.
  const box = (await p.page.locator('#boxRel canvas').boundingBox())!;
  const [x, y] = await cellCentre(p, 'rel', 44, 90);
  assert.ok(near(px.at(box.x + 45, y), [255, 255, 255], 30), `frame ${px.at(box.x + 45, y)}`);
  const res = p.results[0];
  const rel = mapsOf(res).maps[0];
  const k = 44 * 180 + 90;
  const exp = Array.from(cellRaster({ width: 180, height: 89, mode: 'relevance', relevance: rel, relLimits: relevanceLimits(rel) }).subarray(k * 4, k * 4 + 3));
  assert.ok(near(px.at(x, y), exp), `${px.at(x, y)} vs ${exp}`);
  await p.page.context().close();
});

test('recompute shows progress and can be cancelled; a late result is dropped', opts, async () => {
  const sc = await cnnScenario();
  const p = await openPanel(browser, 'light', sc, { explainDelayMs: 1500, state: { composite: 'epsilon' } as never });
  const ask = await p.waitFor('explain');
  await p.page.waitForFunction(() => document.getElementById('status')?.textContent === 'Explaining…');
  assert.equal(await p.page.locator('#progress').isVisible(), true);
  assert.equal(await p.page.locator('#app').getAttribute('aria-busy'), 'true');
  await p.page.locator('#cancel').click();
  const cancel = await p.waitFor('cancel');
  assert.equal(cancel.requestId, ask.requestId);
  assert.equal(await p.page.locator('#status').textContent(), 'Cancelled.');
  assert.equal(await p.page.locator('#progress').isVisible(), false);
  await p.page.waitForTimeout(2500); // the stub answers anyway, as a server that missed the cancel would
  assert.equal(p.results.length, 1, 'the host did send a result');
  assert.equal(p.received.filter((m) => m?.type === 'rendered').length, 0, 'and the page ignored it');
  // Recompute then works as usual.
  const n = p.received.length;
  await p.page.locator('#recompute').click();
  await waitRendered(p, n);
  await p.page.context().close();
});

test('a result the host sends on its own (the Explain command) is shown and its samples kept', opts, async () => {
  const sc = await cnnScenario();
  const p = await openPanel(browser, 'light', sc, { state: { composite: 'epsilon' } as never });
  await waitRendered(p, 0);
  const model = sc.models[0].uri;
  const params = { model, composite: { name: 'epsilon-gamma-box', params: { gamma: 0.25, low: -5, high: 5 } }, samples: { data: '/data/x_nhwc.npy' } };
  const result = await sc.explain(params);
  const n = p.received.length;
  await p.send({ type: 'result', requestId: 'host-cmd-1', purpose: 'main', result, params });
  await waitRendered(p, n);
  assert.match((await p.page.locator('#capRel').textContent())!, /epsilon-gamma-box/);
  assert.equal(await p.page.evaluate(() => (document.getElementById('data') as HTMLElement & { value: string }).value), '/data/x_nhwc.npy');
  // Recompute with the same settings is a cache hit (no request); another target asks the server.
  let n2 = p.received.length;
  await p.page.locator('#recompute').click();
  await p.page.waitForTimeout(300);
  assert.equal(p.received.slice(n2).filter((m) => m?.type === 'explain').length, 0, 'served from the cache');
  await p.page.evaluate(() => {
    const el = document.getElementById('target') as HTMLElement & { value: string };
    el.value = '1';
    el.dispatchEvent(new Event('change'));
  });
  n2 = p.received.length;
  await p.page.locator('#recompute').click();
  const ask = await p.waitFor('explain', n2);
  assert.equal(ask.params.target, 1);
  assert.equal(ask.params.samples?.data, '/data/x_nhwc.npy');
  assert.deepEqual(ask.params.composite, { name: 'epsilon-gamma-box', params: { gamma: 0.25, low: -5, high: 5 } });
  await p.page.context().close();
});

test('the Explain command\'s result (ext- id, no request) selects its model and keeps its samples', opts, async () => {
  const sc = await cnnScenario();
  const cnn = sc.models[0];
  // Another loadable model listed first: the panel starts on it, as in VS Code with several models.
  const other = { ...cnn, uri: cnn.uri.replace(/model\.json$/, 'other.json'), file: cnn.file.replace(/model\.json$/, 'other.json'), name: 'other' };
  sc.models.unshift(other);
  const p = await openPanel(browser, 'light', sc, { state: { composite: 'epsilon' } as never });
  await waitRendered(p, 0);
  // What the language server answers: the model as an absolute path, the request's samples in `selection`.
  const r = await sc.explain({ model: cnn.uri, composite: { name: 'epsilon-plus' }, samples: { data: '/data/x_nhwc.npy' } });
  const result = { ...r, model: cnn.file, selection: { data: '/data/x_nhwc.npy' } };
  const n = p.received.length;
  await p.send({ type: 'result', requestId: 'ext-explain-7', purpose: 'main', result });
  await waitRendered(p, n);
  assert.match((await p.page.locator('#capRel').textContent())!, /epsilon-plus/);
  const value = (id: string) => p.page.evaluate((i) => (document.getElementById(i) as HTMLElement & { value: string }).value, id);
  assert.equal(await value('model'), cnn.uri, 'the model of the result is selected');
  assert.equal(await value('data'), '/data/x_nhwc.npy', 'the samples of the result are shown');
  await p.page.evaluate(() => {
    const el = document.getElementById('target') as HTMLElement & { value: string };
    el.value = '1';
    el.dispatchEvent(new Event('change'));
  });
  const n2 = p.received.length;
  await p.page.locator('#recompute').click();
  const ask = await p.waitFor('explain', n2);
  assert.equal(ask.params.model, cnn.uri);
  assert.equal(ask.params.samples?.data, '/data/x_nhwc.npy', 'a recompute explains the same data');
  await p.page.context().close();
});

/** Columns of each [n, H, W] map extended periodically by `wrap` on each side (lrp-lens.json wrapLon). */
function wrapColumns(a: Float32Array, n: number, h: number, w: number, wrap: number): Float32Array {
  const W = w + 2 * wrap;
  const out = new Float32Array(n * h * W);
  for (let s = 0; s < n; s++) for (let r = 0; r < h; r++) for (let j = 0; j < W; j++) out[(s * h + r) * W + j] = a[(s * h + r) * w + ((j - wrap + w) % w)];
  return out;
}

test('geographic mode for a flattened, lon-wrapped input from lrp-lens.json: cropped back to 89x180, dates and class names', opts, async () => {
  const sc = await sstScenario({ months: [71], sst });
  const p = await openPanel(browser, 'light', sc, { state: { composite: 'epsilon' } as never });
  await waitRendered(p, 0);
  const r = await sc.explain({ model: sc.models[0].uri });
  const H = 89, W = 180, WRAP = 3;
  // As the server sends it for an MLP on lrp-lens.json data with input.flatten and wrapLon.
  const rel = wrapColumns(decodeFloat32(r.relevance), 1, H, W, WRAP);
  const inp = wrapColumns(decodeFloat32(r.input!), 1, H, W, WRAP);
  const mask = wrapColumns(Float32Array.from(Buffer.from(r.mask!, 'base64')), 1, H, W, WRAP);
  const lon = [...r.coords!.lon.slice(W - WRAP).map((v) => v - 360), ...r.coords!.lon, ...r.coords!.lon.slice(0, WRAP).map((v) => v + 360)];
  const flat = {
    ...r, layout: 'NC',
    relevance: encodeFloat32(rel, [1, H * (W + 2 * WRAP)]), input: encodeFloat32(inp, [1, H * (W + 2 * WRAP)]),
    grid: { shape: [H, W + 2 * WRAP, 1], layout: 'NHWC' as const }, wrapLon: WRAP,
    coords: { lat: r.coords!.lat, lon }, mask: Buffer.from(Uint8Array.from(mask)).toString('base64'),
    times: ['2015-12-01'], labels: [2], classNames: ['La Nina', 'Neutral', 'El Nino'],
  };
  const n = p.received.length;
  await p.send({ type: 'result', requestId: 'ext-geo-1', purpose: 'main', result: flat });
  await waitRendered(p, n);
  const summary = (await p.page.locator('#summary').textContent())!;
  assert.match(summary, /^89 by 180 cells\./, summary);
  // The copies' relevance folds back: the map's sum is the sum over all the model's input cells.
  assert.match(summary, new RegExp(`Sum of relevance ${formatValue(rel.reduce((a, b) => a + b, 0)).replace(/[+.]/g, '\\$&')};`), summary);
  assert.match((await p.page.locator('#capRel').textContent())!, /sample 71 \(2015-12-01\) · class 0 \(La Nina\)/);
  // Geographic mode on the cropped grid: the strongest cell in the Nino-3.4 box, red, read in degrees.
  const maps = mapsOf(r);
  const best = argmax(maps.maps[0]);
  const [row, col] = [Math.floor(best / W), best % W];
  const px = await pixels(p, join(SHOTS, 'panel-geo-flat-wrapped.png'));
  const got = px.at(...(await cellCentre(p, 'rel', row, col)));
  assert.ok(got[0] > 2 * got[2], `Nino-3.4 cell drawn red: ${got}`);
  await p.page.mouse.move(...(await cellCentre(p, 'rel', row, col)));
  const readout = (await p.page.locator('#readout').textContent())!;
  assert.match(readout, /\d(\.\d+)?°[NS]? \d+(\.\d+)?°[EW]? · input/, readout);
  // Land is hatched where the (cropped) mask says: the masked share matches the unwrapped mask.
  assert.match((await p.page.locator('#figMask').textContent()) ?? '', /on masked cells \(31\.4 % of cells\)/);
  await p.page.locator('vscode-tab-header', { hasText: 'Data set' }).click();
  await p.page.waitForTimeout(200);
  const row0 = (await p.page.locator('#samplesTable tbody tr').first().textContent())!;
  assert.match(row0, /2015-12-01/);
  assert.match(row0, /2 \(El Nino\)/, row0); // the label column, with the class name
  await p.page.context().close();
});

test('PNG export without the server\'s renderer: the page draws the PNG itself, same colours as on screen', opts, async () => {
  const sc = await cnnScenario();
  const p = await openPanel(browser, 'light', sc, { state: { composite: 'epsilon' } as never });
  await waitRendered(p, 0);
  const res = p.results[0];
  const n = p.received.length;
  // What the host sends when lrpLens/renderPng answers BACKEND_UNAVAILABLE (no sharp in the .vsix).
  await p.send({ type: 'renderPngLocally', name: 'sample-0.png' });
  const saved = await p.waitFor('savePng', n);
  assert.equal(saved.name, 'sample-0.png');
  const png = Buffer.from(saved.base64, 'base64');
  writeFileSync(join(SHOTS, 'export-fallback.png'), png);
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  // The page composes the visible canvases and captions of the tab at their on-screen positions, 8 px of margin.
  const origin = await p.page.evaluate(() => {
    const tab = document.querySelectorAll('vscode-tab-panel')[0];
    const rs = Array.from(tab.querySelectorAll('canvas, figcaption')).filter((c) => c.getClientRects().length > 0).map((c) => c.getBoundingClientRect());
    return [Math.min(...rs.map((r) => r.left)), Math.min(...rs.map((r) => r.top))];
  });
  const m = mapsOf(res).maps[0];
  const k = argmax(m);
  const [cx, cy] = await cellCentre(p, 'rel', Math.floor(k / 32), k % 32);
  const o = (Math.floor(cy - origin[1] + 8) * info.width + Math.floor(cx - origin[0] + 8)) * info.channels;
  const exported = [data[o], data[o + 1], data[o + 2]];
  const expected = Array.from(cellRaster({ width: 32, height: 16, mode: 'relevance', relevance: m, relLimits: relevanceLimits(m) }).subarray(k * 4, k * 4 + 3));
  assert.ok(near(exported, expected), `exported ${exported} vs the colour of the strongest cell ${expected}`);
  assert.ok(expected[0] > expected[2], 'the strongest cell is in the positive colour');
  await p.page.context().close();
});

/**
 * A recurrent model explained by the real engine (the harness's scenarios are CNN and SST fields): the
 * LSTM fixture (2 samples, 6 steps, 3 features) or the real sunspot LSTM (12 steps, 1 feature).
 */
async function recurrentScenario(model: string, data: string): Promise<Scenario> {
  await useBackend('wasm');
  const graph = await loadModel(model);
  const x = readNpyFile(data);
  return {
    models: [{ uri: pathToFileURL(model).href, file: model, name: graph.name, state: 'ok', inputs: [], outputs: [], layers: [], totalParams: 0, findings: [] }],
    composites: ['epsilon'],
    explain: async (p) => {
      const e = explainGraph(graph, x, { composite: 'epsilon', target: { type: 'predicted' }, init: 'onehot' });
      return {
        jobId: p.jobId ?? '', model: p.model, composite: { name: 'epsilon' }, target: e.targets.map((t) => t.index),
        samples: e.targets.map((_, i) => i), relevance: encodeFloat32(e.relevance.data as Float32Array, e.relevance.shape),
        input: encodeFloat32(toFloat32(x), x.shape), outputs: encodeFloat32(e.output.data, e.output.shape),
        conservation: { outputRelevance: e.targets.map(() => 1), inputRelevance: e.relevanceSum, relativeError: [], maxRelativeError: 0 },
        backend: 'wasm', durationMs: 0, cached: false, layout: e.layout,
      };
    },
  };
}

const RECURRENT = join(REPO, 'server/src/core/model/formats/fixtures/recurrent');

test('sequence view: a recurrent explanation as a features x time map across the panel, with signed per-step bars under its columns', opts, async () => {
  const sc = await recurrentScenario(join(RECURRENT, 'lstm.h5'), join(RECURRENT, 'lstm.x.npy'));
  const p = await openPanel(browser, 'light', sc, { height: 1400 });
  await waitRendered(p, 0);
  await p.page.waitForTimeout(100);
  const res = p.results[0];
  const [, T, F] = res.relevance.shape;
  assert.deepEqual([T, F], [6, 3]);
  const r = decodeFloat32(res.relevance).subarray(0, T * F); // sample 0, (time, features)
  // The maps are stacked and as wide as the panel; the step chart is shown under the relevance map.
  const width = p.page.viewportSize()!.width;
  const boxIn = (await p.page.locator('#boxInput canvas').boundingBox())!;
  const boxRel = (await p.page.locator('#boxRel canvas').boundingBox())!;
  const boxSteps = (await p.page.locator('#stepChart').boundingBox())!;
  assert.ok(boxRel.width > 0.8 * width && boxIn.width > 0.8 * width, `maps ${boxIn.width} and ${boxRel.width} px wide in a ${width} px panel`);
  assert.ok(boxIn.y + boxIn.height <= boxRel.y && boxRel.y + boxRel.height <= boxSteps.y, 'input, relevance, then the step chart, top to bottom');

  // Every cell (feature f, step t) is drawn in the colour of R[t, f].
  const fxt = new Float32Array(F * T);
  for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) fxt[f * T + t] = r[t * F + f];
  const raster = cellRaster({ width: T, height: F, mode: 'relevance', relevance: fxt, relLimits: relevanceLimits(fxt) });
  const px = await pixels(p, join(SHOTS, 'panel-sequence.png'));
  for (let f = 0; f < F; f++) {
    for (let t = 0; t < T; t++) {
      const got = px.at(...(await cellCentre(p, 'rel', f, t)));
      const want = Array.from(raster.subarray((f * T + t) * 4, (f * T + t) * 4 + 3));
      assert.ok(near(got, want), `feature ${f}, step ${t}: drawn ${got}, expected ${want}`);
    }
  }

  // The bars: sum over features per step, red up for positive, blue down for negative, heights in proportion.
  const sums = Array.from({ length: T }, (_, t) => { let v = 0; for (let f = 0; f < F; f++) v += r[t * F + f]; return v; });
  assert.ok(sums.some((v) => v > 0) || sums.some((v) => v < 0));
  const red = colorOf(DIVERGING, LUT_MAX);
  const blue = colorOf(DIVERGING, 0);
  const bars = [];
  for (let t = 0; t < T; t++) {
    const [x] = await cellCentre(p, 'rel', 0, t); // the bar stands under its map column
    let up = 0;
    let down = 0;
    for (let y = Math.ceil(boxSteps.y); y < boxSteps.y + boxSteps.height; y++) {
      if (near(px.at(x, y), red, 1)) up++;
      if (near(px.at(x, y), blue, 1)) down++;
    }
    bars.push({ t, up, down });
  }
  const peak = sums.reduce((k, v, t) => (Math.abs(v) > Math.abs(sums[k]) ? t : k), 0);
  const peakPx = Math.max(bars[peak].up, bars[peak].down);
  assert.ok(peakPx >= 40, `the largest bar is ${peakPx} px tall`);
  for (const b of bars) {
    const v = sums[b.t];
    assert.equal(v > 0 ? b.down : b.up, 0, `step ${b.t} (${v}): ${b.up} px red, ${b.down} px blue`);
    const h = v > 0 ? b.up : b.down;
    assert.ok(Math.abs(h - peakPx * Math.abs(v) / Math.abs(sums[peak])) <= 2, `step ${b.t}: bar ${h} px, ${Math.abs(v / sums[peak])} of the largest (${peakPx} px)`);
  }
  const label = (await p.page.locator('#stepChart').getAttribute('aria-label'))!;
  assert.ok(label.includes(sums.map((v, t) => `step ${t} ${formatValue(v)}`).join(', ')), label);

  // The readout names steps and features.
  await p.page.mouse.move(...(await cellCentre(p, 'rel', 2, 4)));
  const readout = (await p.page.locator('#readout').textContent())!;
  assert.ok(readout.includes('step 4, feature 2') && readout.includes(`relevance ${formatValue(r[4 * F + 2])}`), readout);
  assert.deepEqual(await p.cspViolations(), []);
  await p.page.context().close();
});

test('sequence view of the real sunspot LSTM: one feature over 12 steps stays readable at the panel\'s width', opts, async () => {
  const sc = await recurrentScenario(join(REAL, 'sunspot-lstm', 'rnn_model.h5'), join(REPO, 'server/src/core/lrp/fixtures/recurrent-lrp/sunspot12.x.npy'));
  const p = await openPanel(browser, 'dark', sc, { height: 1200 });
  await waitRendered(p, 0);
  await p.page.waitForTimeout(100);
  const res = p.results[0];
  assert.deepEqual(res.relevance.shape.slice(1), [12, 1]);
  const boxRel = (await p.page.locator('#boxRel canvas').boundingBox())!;
  const [x0, y0] = await cellCentre(p, 'rel', 0, 0);
  const [x1] = await cellCentre(p, 'rel', 0, 11);
  // 12 columns across (nearly) the whole width, and the single row at least 96 px tall rather than square.
  assert.ok(x1 - x0 > 0.8 * 11 / 12 * boxRel.width, `columns span ${x1 - x0} px of ${boxRel.width}`);
  assert.ok(y0 - boxRel.y >= 48, `row centre ${y0 - boxRel.y} px below the map's top`);
  const r = decodeFloat32(res.relevance).subarray(0, 12);
  const summary = (await p.page.locator('#stepSummary').textContent())!;
  const peak = Array.from(r).reduce((k, v, t) => (Math.abs(v) > Math.abs(r[k]) ? t : k), 0);
  assert.ok(summary.includes(`largest |Σ R| at step ${peak} (${formatValue(r[peak])})`), summary);
  await p.page.screenshot({ fullPage: true, path: join(SHOTS, 'panel-sequence-sunspot.png') });
  await p.page.context().close();
});
