/**
 * Samples by date in the panel: the Dates field appears where the shown result has a time axis, names
 * its span, and the next explain and data check ask for those dates (in place of the shown indices).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { bundle, launch, openPanel, cnnScenario, CHROMIUM } from './panel-harness.js';

const haveChromium = existsSync(CHROMIUM);
const opts = { skip: !haveChromium && `no Chromium at ${CHROMIUM}`, timeout: 120_000 };
let browser: Browser;

before(async () => {
  if (!haveChromium) return;
  await bundle();
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

test('the Dates field: hidden without times, shown with the result\'s span, its dates sent with explain and the data check', opts, async () => {
  const sc = await cnnScenario();
  const p = await openPanel(browser, 'light', sc);
  await p.waitFor('rendered', 0);
  const hidden = () => p.page.evaluate(() => document.getElementById('datesField')!.hidden);
  assert.equal(await hidden(), true, 'a result without dates: no date picker');
  // A result whose samples lie on a time axis (as the server sends lrp-lens.json data): the field, with the span.
  const r = p.results[p.results.length - 1];
  const n = p.received.length;
  await p.send({ type: 'result', requestId: 'ext-dates-1', purpose: 'main', result: { ...r, times: r.samples.map((_, i) => `2015-${String(i + 1).padStart(2, '0')}-01`) } });
  await p.waitFor('rendered', n);
  assert.equal(await hidden(), false);
  const last = `2015-${String(r.samples.length).padStart(2, '0')}`;
  assert.equal(await p.page.locator('#dates').getAttribute('placeholder'), `2015-01:${last} or ${last}, …`);
  const setDates = (v: string) => p.page.evaluate((v) => {
    const el = document.getElementById('dates') as HTMLElement & { value: string };
    el.value = v;
    el.dispatchEvent(new Event('change'));
  }, v);
  // Malformed text is refused with a message (and not kept).
  await setDates('Dec 2015');
  assert.match((await p.page.locator('#status').textContent()) ?? '', /Dates 'Dec 2015'/);
  await setDates('2015-11:2016-02');
  let k = p.received.length;
  await p.page.locator('#recompute').click();
  const ask = await p.waitFor('explain', k);
  assert.equal(ask.params.samples?.timeRange, '2015-11:2016-02');
  assert.equal(ask.params.samples?.indices, undefined, 'dates in place of the shown indices');
  const saved = p.received.filter((m) => m?.type === 'saveState').pop() as { state: { dates?: string } } | undefined;
  assert.equal(saved?.state.dates, '2015-11:2016-02', 'kept across reloads');
  await setDates('2015-12, 2016-01');
  k = p.received.length;
  await p.page.evaluate(() => document.getElementById('checkData')!.click()); // in the Data set tab
  const check = await p.waitFor('checkData', k);
  assert.deepEqual(check.samples?.dates, ['2015-12', '2016-01']);
  await p.page.context().close();
});
