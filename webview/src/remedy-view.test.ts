/**
 * The panel's remedy twins (remedy-view.ts): the data check's findings arrive with the warnings' twins
 * (here the benchmark's max-pooling CNN and its average-pooling twin, made by the real checks), and the
 * Findings tab draws the model's map and the twin's under the table with the check's statistic on both.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { bundle, launch, openPanel, cnnScenario, CHROMIUM } from './panel-harness.js';
import { encodeFloat32, parseToWebview, type RemedyTwinMaps } from './messages.js';
import { formatValue } from '../../server/src/core/render/colormap.js';
import { useBackend } from '../../server/src/core/backend.js';
import { measure, testData } from '../../samples/benchmark/measure.js';
import { addRuleTwins } from '../../server/src/core/artifacts/remedy-twins-rule.js';
import { modelPath } from '../../samples/benchmark/cases.js';
import { remedyTwins, twinShareMaps } from '../../server/src/core/artifacts/remedy-twins.js';
import { findingSummary } from '../../server/src/lsp/analyzer.js';

const haveChromium = existsSync(CHROMIUM);
const skip = !haveChromium ? `no Chromium at ${CHROMIUM}` : !existsSync(modelPath('pool-max')) ? 'benchmark models not generated' : false;
let browser: Browser;

before(async () => {
  if (skip) return;
  await bundle();
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('the Findings tab draws each remedy twin next to the model\'s map, with both statistics', { skip, timeout: 120_000 }, async () => {
  await useBackend('wasm');
  const m = await measure({ variant: 'pool-max', composite: 'epsilon' }, 8);
  const twins: RemedyTwinMaps[] = remedyTwins(m.ctx, m.findings).map((t) => {
    const s = twinShareMaps(m.ctx, t);
    return { code: t.code, name: t.name, statisticName: t.statisticName, statistic: t.statistic, twinStatistic: t.twinStatistic, height: s.height, width: s.width, user: encodeFloat32(s.user, [s.height, s.width]), twin: encodeFloat32(s.twin, [s.height, s.width]) };
  });
  const t = twins.find((x) => x.code === 'LRP204');
  assert.ok(t, `twins: ${twins.map((x) => x.code)}`);
  const p = await openPanel(browser, 'light', await cnnScenario());
  await p.waitFor('rendered', 0);
  await p.page.locator('vscode-tab-header', { hasText: 'Findings' }).click();
  await p.send({ type: 'findings', requestId: 'host-twins', findings: m.findings.map(findingSummary), twins });
  const row = p.page.locator('#remedyTwins .maps[data-code="LRP204"]');
  await row.locator('canvas').first().waitFor();
  assert.equal(await row.locator('canvas').count(), 2, 'the model\'s map and the twin\'s');
  const captions = (await row.locator('figcaption').allTextContents()).join(' | ');
  assert.ok(captions.includes(formatValue(t.statistic)) && captions.includes(formatValue(t.twinStatistic)) && captions.includes('average-pooling twin'), captions);
  // Both maps are drawn (many colours, not a blank canvas), and differ from each other.
  const drawn = await row.locator('canvas').evaluateAll((cs) => cs.map((c) => {
    const cv = c as HTMLCanvasElement;
    const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
    const colours = new Set<number>();
    for (let i = 0; i < d.length; i += 4) colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    return { colours: colours.size, url: cv.toDataURL() };
  }));
  assert.ok(drawn.every((d) => d.colours > 20), JSON.stringify(drawn.map((d) => d.colours)));
  assert.notEqual(drawn[0].url, drawn[1].url);
  // A result without twins removes them.
  await p.send({ type: 'findings', requestId: 'host-none', findings: [] });
  await p.page.waitForFunction(() => !document.getElementById('remedyTwins'));
  assert.deepEqual(p.logs.filter((l) => l.startsWith('pageerror')), []);
});

test('a first-layer rule twin (the linear MLP\'s LRP210, w-square on the first layer) is drawn with its name and both statistics', { skip: skip || (!existsSync(modelPath('mlp-linear')) && 'benchmark models not generated'), timeout: 120_000 }, async () => {
  await useBackend('wasm');
  const m = await measure({ variant: 'mlp-linear', composite: 'epsilon' }, 8);
  addRuleTwins(m.ctx, m.ctx, m.findings, { graph: m.ctx.graph, x: testData(8).x, opts: { composite: 'epsilon' } }, (c) => c);
  const t = remedyTwins(m.ctx, m.findings).find((x) => x.code === 'LRP210');
  assert.ok(t, m.findings.map((f) => f.code).join(', '));
  const s = twinShareMaps(m.ctx, t);
  const twin: RemedyTwinMaps = { code: t.code, name: t.name, statisticName: t.statisticName, statistic: t.statistic, twinStatistic: t.twinStatistic, height: s.height, width: s.width, user: encodeFloat32(s.user, [s.height, s.width]), twin: encodeFloat32(s.twin, [s.height, s.width]) };
  const p = await openPanel(browser, 'light', await cnnScenario());
  await p.waitFor('rendered', 0);
  await p.page.locator('vscode-tab-header', { hasText: 'Findings' }).click();
  await p.send({ type: 'findings', requestId: 'host-rule-twin', findings: m.findings.map(findingSummary), twins: [twin] });
  const row = p.page.locator('#remedyTwins .maps[data-code="LRP210"]');
  await row.locator('canvas').first().waitFor();
  assert.equal(await row.locator('canvas').count(), 2);
  const captions = (await row.locator('figcaption').allTextContents()).join(' | ');
  assert.ok(captions.includes('w-square first-layer twin') && captions.includes(formatValue(t.statistic)) && captions.includes(formatValue(t.twinStatistic)), captions);
  assert.match(await p.page.locator('#remedyTwins p.caption').textContent() ?? '', /correlation of \|R\| with \|x\|/);
  assert.deepEqual(p.logs.filter((l) => l.startsWith('pageerror')), []);
});

test('a findings message whose twin maps do not match their declared size is refused', () => {
  const map = encodeFloat32(new Float32Array(6), [2, 3]);
  const twin: RemedyTwinMaps = { code: 'LRP204', name: 'average-pooling twin (same weights)', statisticName: 'block roughness', statistic: 1.5, twinStatistic: 1, height: 2, width: 3, user: map, twin: map };
  assert.ok(parseToWebview({ type: 'findings', requestId: 'r', findings: [], twins: [twin] }));
  assert.equal(parseToWebview({ type: 'findings', requestId: 'r', findings: [], twins: [{ ...twin, width: 4 }] }), undefined);
  assert.equal(parseToWebview({ type: 'findings', requestId: 'r', findings: [], twins: [{ ...twin, statistic: 'big' }] }), undefined);
});
