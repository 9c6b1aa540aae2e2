import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REAL, REF } from '../testing/paths.js';
import { checkPaths, findModelFiles, run } from './check.js';
import { formatSarif, formatText } from './check-format.js';

async function capture(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await run(argv, (s) => { out += s; });
  return { code, out };
}

test('a folder is searched for model files: the SEVIR folder gives its six .h5 files', async () => {
  const files = await findModelFiles(join(REAL, 'sevir'));
  assert.equal(files.length, 6);
  assert.ok(files.every((f) => f.endsWith('.h5')));
});

test('a broken model is one LRP100 finding and the rest of the folder is still checked; exit 1 on an error finding', async () => {
  const r = await checkPaths([join(REAL, 'ninolearn-broken'), join(REAL, 'sevir', 'MyFirstCNN.h5')]);
  const broken = r.findings.filter((f) => f.code === 'LRP100');
  assert.equal(broken.length, 1);
  assert.match(broken[0].message, /MISSING_WEIGHTS/);
  assert.equal(r.summaries.length, 1, 'MyFirstCNN still summarized');
  assert.equal(r.staticOnly, true);
  const { code } = await capture([join(REAL, 'ninolearn-broken'), '--format', 'json']);
  assert.equal(code, 1);
});

test('exit 0 without error findings; JSON has findings, summaries and staticOnly; text is file: severity code message', async () => {
  const { code, out } = await capture([join(REF, 'mlp', 'model.h5'), '--format', 'json']);
  assert.equal(code, 0);
  const j = JSON.parse(out);
  assert.equal(j.staticOnly, true);
  assert.ok(j.findings.some((f: { code: string }) => f.code === 'LRP110'));
  for (const f of j.findings) for (const k of ['code', 'severity', 'message', 'location', 'remedy', 'docs']) assert.ok(k in f, k);
  const text = formatText(await checkPaths([join(REF, 'mlp', 'model.h5')]), REF);
  assert.match(text, /^mlp\/model\.h5: warning LRP110 /m);
  assert.match(text, /static checks only/);
});

test('SARIF 2.1.0: one rule per code, results with levels, JSON-file findings with a char region', async () => {
  const r = await checkPaths([join(REF, 'cnn_same', 'tfjs', 'model.json')]);
  const s = JSON.parse(formatSarif(r, '0.1.0'));
  assert.equal(s.version, '2.1.0');
  const run0 = s.runs[0];
  assert.equal(run0.tool.driver.rules.length, 25);
  const res = run0.results.find((x: { ruleId: string }) => x.ruleId === 'LRP101');
  assert.equal(res.level, 'warning');
  assert.equal(run0.tool.driver.rules[res.ruleIndex].id, 'LRP101');
  assert.ok(res.locations[0].physicalLocation.region.charLength > 0);
  assert.ok(run0.results.some((x: { level: string }) => x.level === 'note'), 'information becomes note');
});

test('usage errors: no path, a missing path, a bad format (the dispatcher exits 2 on these)', async () => {
  await assert.rejects(run([]), /USAGE|at least one/);
  await assert.rejects(run(['/no/such/model.h5']), (e: { code?: string }) => e.code === 'USAGE');
  await assert.rejects(run([join(REF, 'mlp', 'model.h5'), '--format', 'xml']), (e: { code?: string }) => e.code === 'USAGE');
});
