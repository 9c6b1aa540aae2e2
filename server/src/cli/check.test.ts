import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH, REAL, REF, SAMPLES, scratchDir } from '../testing/paths.js';
import { main } from '../cli.js';
import { checkPaths, findModelFiles, run } from './check.js';
import { formatSarif, formatText } from './check-format.js';
import { allChecks } from '../core/artifacts/catalogue.js';

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
  assert.equal(run0.tool.driver.rules.length, allChecks().length);
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

const HAVE_SAMPLE_CNNS = ['cnn_same_maxpool', 'cnn_valid_wrap_avgpool'].every((m) => existsSync(join(SAMPLES, 'models', m, 'model.h5')));

/** Values of a 1-D coordinate from ncdump (netcdf-bin), independent of our readers. */
function ncdumpVar(file: string, name: string): number[] {
  const text = execFileSync('ncdump', ['-v', name, file], { encoding: 'utf8' });
  const m = new RegExp(`\\n\\s*${name} =([^;]*);`).exec(text.slice(text.indexOf('data:')))!;
  return m[1].split(',').map((v) => Number(v.trim()));
}

test('check --config samples/lrp-lens.json: every entry on its own data; LRP101 for same padding, none for the valid twin; coordinates and mask', { skip: !HAVE_SAMPLE_CNNS && 'sample models not built' }, async () => {
  const { code, out } = await capture(['--config', join(SAMPLES, 'lrp-lens.json'), '--format', 'json']);
  const j = JSON.parse(out);
  assert.equal(code, j.findings.some((f: { severity: string }) => f.severity === 'error') ? 1 : 0);
  assert.equal(j.staticOnly, false);
  const codesOf = (model: string): string[] => j.findings.filter((f: { location: { file: string } }) => f.location.file.includes(`models/${model}/`)).map((f: { code: string }) => f.code);
  assert.ok(codesOf('cnn_same_maxpool').includes('LRP101'));
  assert.ok(!codesOf('cnn_valid_wrap_avgpool').includes('LRP101'));
  assert.ok(codesOf('cnn_valid_wrap_avgpool').length > 0, 'the valid twin was checked');
  // LRP202 judged as the report judges it: the same-padded CNN against its circular-longitude twin; the
  // wrapped model's longitude is periodic, so no finding of it names a longitude edge.
  const border = (model: string) => j.findings.filter((f: { code: string; location: { file: string } }) => f.code === 'LRP202' && f.location.file.includes(`models/${model}/`));
  assert.ok(border('cnn_same_maxpool').length > 0, 'LRP202 on the same-padded CNN');
  for (const f of border('cnn_same_maxpool')) assert.match(f.data.controlName, /circular-longitude twin/);
  for (const f of border('cnn_valid_wrap_avgpool')) {
    assert.notEqual(f.severity, 'warning', f.message);
    assert.ok(!/left|right/.test(f.data.sides), f.message);
  }
  // Map checks ran on the entries' data: the wrapped model sees 72 + 2 x 4 longitudes.
  const nc = join(SAMPLES, 'data', 'ersstv5_anom_5deg_1980-2018.nc');
  const lat = ncdumpVar(nc, 'lat');
  const lon = ncdumpVar(nc, 'lon');
  const wrapped = j.inputs.find((i: { entry: string }) => i.entry === 'cnn_valid_wrap_avgpool');
  assert.deepEqual(wrapped.shape.slice(1), [24, 80, 1]);
  assert.deepEqual([wrapped.lat.first, wrapped.lat.last, wrapped.lat.count], [lat[0], lat[lat.length - 1], lat.length]);
  assert.equal(wrapped.lon.count, lon.length + 8);
  assert.equal(wrapped.lon.first, lon[lon.length - 4] - 360);
  assert.equal(wrapped.wrapLon, 4);
  assert.equal(wrapped.dates[0].slice(0, 7), '1980-01');
  const same = j.inputs.find((i: { entry: string }) => i.entry === 'cnn_same_maxpool');
  assert.equal(same.composite, 'epsilon-gamma-box', 'the entry\'s explain composite');
  assert.equal(same.samples, 32);
  // mask: "missing" on the 2-degree SST: land and sea ice; the data README counts 10,988 ocean cells of 89 x 180.
  const mlp = j.inputs.find((i: { entry: string }) => i.entry === 'mlp_relu');
  if (mlp) assert.ok(Math.abs(mlp.maskedShare - (1 - 10988 / (89 * 180))) < 2e-3, String(mlp.maskedShare));
});

test('check --config: LRP209 sees the project\'s mask (land filled with a non-zero value draws relevance there)', { skip: !existsSync(join(BENCH, 'sst_cnn.h5')) && 'benchmark models not present' }, async () => {
  const pdir = scratchDir('cli-check-mask');
  // The MLP entry's 2-degree data on a model that takes the full 89 x 180 grid (the sample MLPs take the
  // ocean cells only, so land never reaches them).
  const base = JSON.parse(readFileSync(join(SAMPLES, 'lrp-lens.json'), 'utf8')).models.find((m: { name: string }) => m.name === 'mlp_relu');
  const entry = (mask: boolean): Record<string, unknown> => {
    const e = { ...base, name: mask ? 'masked' : 'unmasked', model: join(BENCH, 'sst_cnn.h5'), data: { ...base.data, file: join(SAMPLES, base.data.file) } };
    e.labels = { ...base.labels, file: join(SAMPLES, base.labels.file) };
    e.input = { ...base.input, flatten: false, fillValue: 3 };
    if (!mask) delete e.mask;
    return e;
  };
  const f = join(pdir, 'lrp-lens.json');
  writeFileSync(f, JSON.stringify({ version: 1, models: [entry(true), entry(false)] }));
  const masked = await checkPaths([], { config: f, model: 'masked' });
  const lrp209 = masked.findings.find((x) => x.code === 'LRP209');
  assert.ok(lrp209, 'LRP209 fires with the mask');
  assert.ok(Math.abs(Number(lrp209.data!.maskedCells) - masked.inputs[0].maskedShare!) < 1e-9);
  const unmasked = await checkPaths([], { config: f, model: 'unmasked' });
  assert.ok(!unmasked.findings.some((x) => x.code === 'LRP209'), 'no mask, no LRP209');
  assert.equal(unmasked.inputs[0].maskedShare, undefined);
});

test('check --data FILE [--select]: maps on a data file; an entry that does not fit is an LRP100 warning naming the key', async () => {
  const model = join(REF, 'cnn_same', 'model.h5');
  const r = await checkPaths([model], { data: join(REF, 'cnn_same', 'x_nhwc.npy'), select: 'dim_0=0:4' });
  assert.equal(r.staticOnly, false);
  assert.equal(r.inputs[0].samples, 4);
  assert.ok(r.findings.some((f) => f.code === 'LRP101'));
  const pdir = scratchDir('cli-check-bad');
  const f = join(pdir, 'lrp-lens.json');
  writeFileSync(f, JSON.stringify({ version: 1, models: [{ name: 'wrong', model, data: { file: join(REF, 'cnn_same', 'x_nhwc.npy'), select: { dim_2: '0:8' } } }] }));
  const bad = await checkPaths([], { config: f });
  const skipped = bad.findings.find((x) => x.code === 'LRP100');
  assert.ok(skipped);
  assert.match(skipped.message, /SHAPE_MISMATCH.*models\[0\]\.data/);
  assert.ok(bad.findings.some((x) => x.code === 'LRP101'), 'static checks still ran');
  await assert.rejects(run([model, '--var', 'x']), (e: { code?: string }) => e.code === 'USAGE');
  await assert.rejects(run([model, '--data', 'a.npy', '--config', f]), (e: { code?: string }) => e.code === 'USAGE');
});

test('check --rules: a rule map that puts z+ on every convolution makes the z+ chain of LRP112, as the explainer would apply it', async () => {
  const resnet = join(REAL, 'mlcommons-tiny', 'pretrainedResnet.h5');
  const codes = async (...argv: string[]): Promise<Set<string>> => {
    const { out } = await capture([resnet, '--format', 'json', ...argv]);
    return new Set(JSON.parse(out).findings.map((f: { code: string }) => f.code));
  };
  assert.ok(!(await codes('--composite', 'epsilon')).has('LRP112'));
  assert.ok((await codes('--composite', 'epsilon', '--rules', 'kind:conv=zplus')).has('LRP112'));
  assert.ok(!(await codes('--composite', 'epsilon-plus', '--rules', 'kind:conv=gamma:0.25')).has('LRP112'), 'the rule map also removes a chain');
  await assert.rejects(run([resnet, '--rules', 'kind:conv']), (e: { code?: string }) => e.code === 'USAGE');
});

test('lrp-lens --help and CMD --help name the input flags of explain, predict and check', async () => {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((c: string | Uint8Array, ...rest: unknown[]) => (typeof c === 'string' ? (chunks.push(c), true) : (write as (...a: unknown[]) => boolean)(c, ...rest))) as typeof process.stdout.write;
  try {
    for (const cmd of ['explain', 'predict', 'check']) {
      chunks.length = 0;
      assert.equal(await main([cmd, '--help']), 0);
      const text = chunks.join('');
      for (const flag of ['--data FILE', '--var NAME', '--select DIM=START:STOP', '--fill V', '--config lrp-lens.json', '--model NAME']) assert.ok(text.includes(flag), `${cmd}: ${flag}`);
      if (cmd !== 'check') assert.ok(text.includes('--input X.npy'), cmd);
    }
    chunks.length = 0;
    assert.equal(await main(['--help']), 0);
    for (const cmd of ['explain', 'predict', 'check']) assert.match(chunks.join(''), new RegExp(`\\n  ${cmd} `));
  } finally {
    process.stdout.write = write;
  }
});
