/**
 * The panel beside an editor, in headless Chromium on real ERSSTv5 anomalies: the maps stack and take
 * the panel's width, re-laid out when it is resized; the anomaly input is drawn diverging around 0 with
 * its units; the entry's regions are outlined. Screenshots go to out/screenshots/.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Browser } from 'playwright-core';
import { REPO } from '../../server/src/testing/paths.js';
import { cellRaster } from '../../server/src/core/render/raster.js';
import { formatValue } from '../../server/src/core/render/colormap.js';
import { bundle, launch, openPanel, sstScenario, CHROMIUM, type PanelPage, type Scenario } from './panel-harness.js';
import { decodeFloat32 } from './messages.js';
import { inputScale, toMaps } from './maps.js';
import { loadSst, type SstField } from '../../server/src/testing/sst-fixtures.js';

const SHOTS = join(REPO, 'out', 'screenshots');
const haveChromium = existsSync(CHROMIUM);
const opts = { skip: haveChromium ? false : `no Chromium at ${CHROMIUM}` };
let browser: Browser;
let sst: SstField;

before(async () => {
  if (!haveChromium) return;
  mkdirSync(SHOTS, { recursive: true });
  await bundle();
  browser = await launch();
  sst = await loadSst();
});

after(async () => {
  await browser?.close();
});

const NINO34 = { name: 'Nino-3.4', lat: [-5, 5] as [number, number], lon: [190, 240] as [number, number] };

/** The scenario's result as the server now sends it for monthly-anomaly data with a region named. */
async function anomalyScenario(months: number[], regions = true): Promise<Scenario> {
  const sc = await sstScenario({ months, sst });
  return { ...sc, explain: async (p) => ({ ...(await sc.explain(p)), inputDiverging: true, ...(regions ? { regions: [NINO34] } : {}) }) };
}

async function rendered(p: PanelPage): Promise<void> {
  await p.waitFor('rendered', 0);
  await p.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
}

async function pixels(p: PanelPage, file?: string): Promise<(x: number, y: number) => number[]> {
  const png = await p.page.screenshot({ fullPage: true, path: file });
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return (x, y) => {
    const o = (Math.floor(y) * info.width + Math.floor(x)) * info.channels;
    return [data[o], data[o + 1], data[o + 2]];
  };
}

async function cellCentre(p: PanelPage, which: 'rel' | 'input', row: number, col: number): Promise<[number, number]> {
  return p.page.evaluate(([w, r, c]) => (window as unknown as { __lrpPanel: { cellCentre(w: string, r: number, c: number): [number, number] } }).__lrpPanel.cellCentre(w as string, r as number, c as number), [which, row, col] as const);
}

const box = async (p: PanelPage, sel: string) => (await p.page.locator(sel).boundingBox())!;

test('beside an editor (640 px) the maps stack, each as wide as the panel, and go side by side again when it widens', opts, async () => {
  const p = await openPanel(browser, 'light', await anomalyScenario([83]), { width: 640, height: 1000, state: { composite: 'epsilon' } as never });
  await rendered(p);
  const inp = await box(p, '#boxInput canvas');
  const rel = await box(p, '#boxRel canvas');
  assert.equal(await p.page.locator('#sampleMaps.stacked').count(), 1, 'stacked');
  // The body's padding (12 px a side) and the colour bar (110 px and a 4 px gap) are all the map does not take.
  assert.ok(rel.width >= 640 - 24 - 114 - 1 && inp.width >= 640 - 24 - 114 - 1, `maps ${inp.width} and ${rel.width} px wide`);
  assert.ok(rel.y + rel.height <= inp.y, 'relevance first, the input below it');
  // Aspect kept: 89 rows of 2 degrees by 180 columns of 2 degrees (plot = canvas less its 54 x 32 px of margins).
  const aspect = (rel.height - 32) / (rel.width - 54);
  assert.ok(Math.abs(aspect - 89 / 180) < 0.01, `plot aspect ${aspect}`);
  await pixels(p, join(SHOTS, 'panel-beside-640.png'));
  // Widened to 1400 px: side by side, re-laid out without a new result.
  await p.page.setViewportSize({ width: 1400, height: 1000 });
  await p.page.waitForFunction(() => !document.querySelector('#sampleMaps')!.classList.contains('stacked'));
  await p.page.waitForFunction(() => {
    const a = document.querySelector('#boxInput canvas')!.getBoundingClientRect();
    const b = document.querySelector('#boxRel canvas')!.getBoundingClientRect();
    return Math.abs(a.top - b.top) < 1 && a.right <= b.left;
  });
  const wide = await box(p, '#boxRel canvas');
  assert.ok(wide.width > 400, `side by side at ${wide.width} px`);
  // And narrowed again: stacked, as wide as the new panel.
  await p.page.setViewportSize({ width: 800, height: 1000 });
  await p.page.waitForFunction(() => document.querySelector('#sampleMaps')!.classList.contains('stacked') && document.querySelector('#boxRel canvas')!.getBoundingClientRect().width >= 800 - 24 - 114 - 1);
  assert.deepEqual(p.logs.filter((l) => l.startsWith('pageerror')), []);
  await p.page.context().close();
});

test('an anomaly input is drawn diverging around 0 with its units; the Nino-3.4 region is outlined on both maps', opts, async () => {
  const p = await openPanel(browser, 'light', await anomalyScenario([83]), { width: 1280, height: 900, state: { composite: 'epsilon' } as never });
  await rendered(p);
  const res = p.results[0];
  const inp = toMaps(decodeFloat32(res.input!), res.input!.shape, 'NHWC', 'first').maps[0];
  const mask = new Uint8Array(inp.length).map((_, i) => (Number.isNaN(inp[i]) ? 1 : 0));
  const sc = inputScale(inp, mask, true);
  assert.equal(sc.limits.vmin, -sc.limits.vmax);
  const label = (await p.page.locator('#barInput').getAttribute('aria-label'))!;
  assert.equal(label, `Colour bar: input anomaly (degC), from ${formatValue(sc.limits.vmin)} (blue) through 0 (white) to ${formatValue(sc.limits.vmax)} (red)`);
  const px = await pixels(p, join(SHOTS, 'panel-anomaly-regions.png'));
  // The warmest cell and a cell near 0 in the diverging colours (white at 0), as core/render draws them.
  let hot = 0;
  let calm = -1;
  for (let i = 0; i < inp.length; i++) {
    if (inp[i] > inp[hot] || Number.isNaN(inp[hot])) hot = i;
    if (calm < 0 && Math.abs(inp[i]) < 0.002 * sc.limits.vmax) calm = i;
  }
  const raster = cellRaster({ width: 180, height: 89, mode: 'input', input: inp, inLimits: sc.limits, inputColormap: 'diverging' });
  for (const k of [hot, calm]) {
    const [x, y] = await cellCentre(p, 'input', Math.floor(k / 180), k % 180);
    const want = Array.from(raster.subarray(k * 4, k * 4 + 3));
    assert.ok(px(x, y).every((v, c) => Math.abs(v - want[c]) <= 3), `cell ${k}: drawn ${px(x, y)}, expected ${want}`);
  }
  assert.ok(raster[calm * 4] > 240 && raster[calm * 4 + 1] > 240 && raster[calm * 4 + 2] > 240, 'near 0 is near white');
  // The region's west edge (170°W = 190°E, the centre of column 95) at the equator (row 44), on both maps:
  // drawn over what the same result without regions shows there; 10 px further west, nothing changes.
  const edges = { rel: await cellCentre(p, 'rel', 44, 95), input: await cellCentre(p, 'input', 44, 95) };
  await p.page.context().close();
  const q = await openPanel(browser, 'light', await anomalyScenario([83], false), { width: 1280, height: 900, state: { composite: 'epsilon' } as never });
  await rendered(q);
  const qx = await pixels(q);
  const changed = (x: number, y: number) => [-2, -1, 0, 1, 2].some((d) => {
    const a = px(x + d, y);
    const b = qx(x + d, y);
    return Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2]) > 150;
  });
  for (const which of ['rel', 'input'] as const) {
    const [x, y] = edges[which];
    assert.deepEqual(await cellCentre(q, which, 44, 95), [x, y], 'the same layout with and without regions');
    assert.ok(changed(x, y), `${which}: outline at the box's west edge (${x}, ${y})`);
    assert.ok(!changed(x - 10, y), `${which}: nothing drawn 10 px west of the box`);
  }
  await q.page.context().close();
});
