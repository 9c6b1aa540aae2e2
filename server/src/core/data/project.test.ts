import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO } from '../../testing/paths.js';
import { KNOWN_KEYS, ProjectError, findEntry, parseProject, readProject, type ProjectIssue } from './project.js';
import { validateProject } from './projectcheck.js';
import { HAVE_NCGEN, fixtureProject } from '../../testing/data-files.js';

const skip = HAVE_NCGEN ? false : 'ncgen (Debian netcdf-bin) is not installed';

/** Validate the fixture with one text edit; return the issues and the edited text. */
async function withEdit(cfg: string, from: string, to: string, shape?: (number | null)[]): Promise<{ issues: ProjectIssue[]; text: string }> {
  const text = readFileSync(cfg, 'utf8');
  assert.ok(text.includes(from), `fixture lacks ${from}`);
  const edited = text.replace(from, to);
  const { issues } = await validateProject(edited, cfg, { modelInputShape: (e) => (e.name === 'grid-cnn' ? shape : undefined) });
  return { issues, text: edited };
}

test('the fixture project is clean, with the model shape checked', { skip }, async () => {
  const cfg = fixtureProject('data-project-ok');
  const { issues } = await validateProject(readFileSync(cfg, 'utf8'), cfg, { modelInputShape: (e) => (e.name === 'grid-cnn' ? [null, 4, 12, 1] : e.name === 'grid-nchw' ? [null, 1, 4, 8] : [null, 2]) });
  assert.deepEqual(issues, []);
  const p = await readProject(cfg);
  assert.deepEqual(p.models.map((m) => m.name), ['grid-cnn', 'grid-nchw', 'features-mlp']);
  assert.equal(findEntry(p, join(dirname(cfg), 'models', 'anything.onnx')).name, 'grid-cnn', 'glob models/*.onnx');
  assert.throws(() => findEntry(p, 'grid-cn'), /Did you mean 'grid-cnn'/);
});

test('problems land on the offending key: wrong path, unknown variable, selection, shape, labels', { skip }, async () => {
  const cfg = fixtureProject('data-project-bad');
  const cases: [string, string, string, string, RegExp, (number | null)[]?][] = [
    ['"file": "grid.nc",', '"file": "gird.nc",', 'FILE_NOT_FOUND', '"file"', /no such file: gird\.nc/],
    ['"variable": "sst",\n        "select"', '"variable": "sts",\n        "select"', 'UNKNOWN_VARIABLE', '"variable"', /Did you mean 'sst'/],
    ['"time": "2000-01:2001-01"', '"time": "1990-01:1990-12"', 'SELECTION_OUT_OF_RANGE', '"time"', /selects no time step/],
    ['"fillValue": -9,', '"fillValue": -9,', 'SHAPE_MISMATCH', '"input"', /expects \[N, 4, 16, 1\]/, [null, 4, 16, 1]],
    ['"labels": { "variable": "nino"', '"labels": { "variable": "nina"', 'UNKNOWN_VARIABLE', '"variable"', /Did you mean 'nino'/],
    ['"model": "models/*.onnx"', '"model": "modles/*.onnx"', 'FILE_NOT_FOUND', '"model"', /no model file matches/],
  ];
  for (const [from, to, code, key, msg, shape] of cases) {
    const { issues, text } = await withEdit(cfg, from, to, shape);
    const hit = issues.find((i) => i.code === code);
    assert.ok(hit, `${to}: expected ${code}, got ${JSON.stringify(issues.map((i) => [i.code, i.message]))}`);
    assert.equal(text.slice(hit.range[0], hit.range[1]), key, `${code} range`);
    assert.match(hit.message, msg);
    assert.equal(hit.path[0], 'models');
  }
});

test('a model that needs a wider grid gets the wrapLon hint', { skip }, async () => {
  const cfg = fixtureProject('data-project-wrap');
  const { issues } = await withEdit(cfg, '"wrapLon": 2', '"wrapLon": 0', [null, 4, 14, 1]);
  const hit = issues.find((i) => i.code === 'SHAPE_MISMATCH');
  assert.ok(hit);
  assert.match(hit.message, /"wrapLon": 3/);
});

test('structure problems: JSON syntax, unknown keys with a suggestion, wrong types, duplicate names', () => {
  const file = join(REPO, 'out', 'lrp-lens.json');
  const syntax = parseProject('{"models": [ {"model": "a.h5" "data": {}} ]}', file);
  assert.equal(syntax.issues[0].code, 'BAD_JSON');
  assert.match(syntax.issues[0].message, /line 1, column 31/);
  const text = JSON.stringify({
    models: [
      { name: 'a', model: 'a.h5', data: { file: 'x.nc', variabel: 'sst' }, input: { wrapLon: -1, standardize: { anomaly: 'daily' } }, mask: 'land' },
      { name: 'a', model: 'b.h5', data: { file: 'x.nc', select: { time: 'soon' } }, labels: { variable: 'n', thresholds: [0.5, -0.5] }, classNames: ['x'] },
    ],
  }, null, 2);
  const { issues } = parseProject(text, file);
  const at = (code: string, re: RegExp): ProjectIssue => {
    const i = issues.find((x) => x.code === code && re.test(x.message));
    assert.ok(i, `${re}: ${JSON.stringify(issues.map((x) => x.message))}`);
    return i;
  };
  const typo = at('CONFIG_ERROR', /unknown key 'variabel'.*Did you mean 'variable'/);
  assert.equal(typo.severity, 'warning');
  assert.equal(text.slice(typo.range[0], typo.range[1]), '"variabel"');
  assert.equal(text.slice(...at('CONFIG_ERROR', /'wrapLon' must be an integer >= 0/).range), '"wrapLon"');
  at('CONFIG_ERROR', /'anomaly' must be 'monthly'/);
  at('CONFIG_ERROR', /'mask' must be "missing"/);
  assert.deepEqual(at('CONFIG_ERROR', /time="soon"/).path, ['models', 1, 'data', 'select', 'time']);
  at('CONFIG_ERROR', /'thresholds' must increase/);
  at('CONFIG_ERROR', /two entries are named 'a'/);
  assert.throws(() => {
    throw new ProjectError(issues.filter((i) => i.severity === 'error'), file);
  }, (e: ProjectError) => e.issues.length > 0 && /models\[0\]/.test(e.message));
});

test('readProject throws a structured error; the JSON Schema names the same keys as the validator', async () => {
  const file = join(REPO, 'out', 'test-tmp', 'bad-lrp-lens.json');
  writeFileSync(file, '{"models": 3}');
  await assert.rejects(readProject(file), (e: ProjectError) => e.code === 'CONFIG_ERROR' && e.issues[0].path[0] === 'models');
  await assert.rejects(readProject(join(REPO, 'out', 'none.json')), (e: Error & { code: string }) => e.code === 'FILE_NOT_FOUND');
  const schema = JSON.parse(readFileSync(join(REPO, 'schemas', 'lrp-lens.schema.json'), 'utf8'));
  const m = schema.definitions.model.properties;
  const keys = (o: { properties: object }): string[] => Object.keys(o.properties).sort();
  assert.deepEqual(keys(schema), [...KNOWN_KEYS.root].sort());
  assert.deepEqual(keys(schema.definitions.model), [...KNOWN_KEYS.model].sort());
  for (const k of ['data', 'input', 'labels', 'coords', 'explain'] as const) assert.deepEqual(keys(m[k]), [...KNOWN_KEYS[k]].sort(), k);
  assert.deepEqual(keys(m.input.properties.standardize), [...KNOWN_KEYS.standardize].sort());
  assert.deepEqual(keys(m.input.properties.sequence), [...KNOWN_KEYS.sequence].sort());
  assert.deepEqual(keys(m.mask.oneOf[1]), [...KNOWN_KEYS.mask].sort());
});
