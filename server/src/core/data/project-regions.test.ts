import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, SAMPLES } from '../../testing/paths.js';
import { KNOWN_KEYS, formatPath, parseProject, type ProjectIssue } from './project.js';

/** A one-entry project whose entry has these regions (any JSON value). */
function withRegions(regions: unknown): { issues: ProjectIssue[]; text: string; regions?: unknown } {
  const text = JSON.stringify({ version: 1, models: [{ name: 'm', model: 'm.onnx', data: { file: 'x.nc', variable: 'sst' }, regions }] }, null, 2);
  const { project, issues } = parseProject(text, join(REPO, 'out', 'test-tmp', 'lrp-lens.json'));
  return { issues, text, regions: project?.models[0]?.regions };
}

const messages = (issues: ProjectIssue[]) => issues.map((i) => `${i.severity} ${formatPath(i.path)}: ${i.message}`);

test('regions: valid boxes are read as given, in either longitude convention and across the seam', () => {
  const r = withRegions([
    { name: 'Nino-3.4', lat: [-5, 5], lon: [190, 240] },
    { name: 'Nino-3.4 (-180..180)', lat: [-5, 5], lon: [-170, -120] },
    { name: 'Greenwich', lat: [40, 60], lon: [350, 370] },
  ]);
  assert.deepEqual(messages(r.issues), []);
  assert.deepEqual(r.regions, [
    { name: 'Nino-3.4', lat: [-5, 5], lon: [190, 240] },
    { name: 'Nino-3.4 (-180..180)', lat: [-5, 5], lon: [-170, -120] },
    { name: 'Greenwich', lat: [40, 60], lon: [350, 370] },
  ]);
  // No regions key: none (the report then draws Nino-3.4 by default).
  const { project } = parseProject(JSON.stringify({ models: [{ name: 'm', model: 'm.onnx', data: { file: 'x.nc' } }] }), join(REPO, 'out', 'lrp-lens.json'));
  assert.equal(project!.models[0].regions, undefined);
});

test('regions: invalid boxes are errors on the offending key, and are left out', () => {
  const cases: [unknown, string, RegExp][] = [
    ['Nino-3.4', 'models[0].regions', /must be an array/],
    [[{ lat: [-5, 5], lon: [190, 240] }], 'models[0].regions[0]', /'name' is required/],
    [[{ name: 'a', lat: [5, -5], lon: [190, 240] }], 'models[0].regions[0].lat', /first below the second/],
    [[{ name: 'a', lat: [-95, 5], lon: [190, 240] }], 'models[0].regions[0].lat', /within -90\.\.90/],
    [[{ name: 'a', lat: [-5, 5, 7], lon: [190, 240] }], 'models[0].regions[0].lat', /two numbers/],
    [[{ name: 'a', lat: [-5, 5], lon: ['190', 240] }], 'models[0].regions[0].lon', /two numbers/],
    [[{ name: 'a', lat: [-5, 5] }], 'models[0].regions[0]', /'lon' is required/],
    [[{ name: 'a', lat: [-5, 5], lon: [-200, 300] }], 'models[0].regions[0].lon', /more than 360/],
    [[{ name: '', lat: [-5, 5], lon: [0, 10] }], 'models[0].regions[0].name', /non-empty string/],
  ];
  for (const [regions, path, re] of cases) {
    const r = withRegions(regions);
    const errors = r.issues.filter((i) => i.severity === 'error');
    assert.equal(errors.length, 1, `${JSON.stringify(regions)}: ${messages(r.issues).join('; ')}`);
    assert.equal(formatPath(errors[0].path), path, JSON.stringify(regions));
    assert.match(errors[0].message, re);
    // The underline is on the key itself, in the file's text.
    const [a, b] = errors[0].range;
    assert.ok(b > a && r.text.slice(a, b).length > 0, `range ${a}..${b}`);
    assert.ok(!(r.regions as unknown[] | undefined)?.length, 'an invalid box is not drawn');
  }
});

test('regions: unknown keys and repeated names are warnings; the box is still read', () => {
  const r = withRegions([{ name: 'Nino-3.4', lat: [-5, 5], lon: [190, 240], colour: 'red' }, { name: 'Nino-3.4', lat: [-5, 5], lon: [190, 240] }]);
  assert.deepEqual(r.issues.filter((i) => i.severity === 'error'), []);
  const w = messages(r.issues);
  assert.equal(w.length, 2, w.join('; '));
  assert.match(w[0], /models\[0\]\.regions\[0\]\.colour: unknown key 'colour' in a region/);
  assert.match(w[1], /models\[0\]\.regions\[1\]\.name: two regions are named 'Nino-3\.4'/);
  assert.equal((r.regions as unknown[]).length, 2);
  // A misspelt key gets a suggestion.
  const typo = withRegions([{ name: 'a', lat: [-5, 5], lons: [0, 10], lon: [0, 10] }]);
  assert.match(messages(typo.issues).join(), /Did you mean 'lon'/);
});

test('the schema describes the same region keys, and the samples name Nino-3.4 on their entries', () => {
  const schema = JSON.parse(readFileSync(join(REPO, 'schemas', 'lrp-lens.schema.json'), 'utf8'));
  const item = schema.definitions.model.properties.regions.items;
  assert.deepEqual(Object.keys(item.properties).sort(), [...KNOWN_KEYS.region].sort());
  assert.deepEqual([...item.required].sort(), [...KNOWN_KEYS.region].sort());
  const file = join(SAMPLES, 'lrp-lens.json');
  const { project, issues } = parseProject(readFileSync(file, 'utf8'), file);
  assert.deepEqual(issues.filter((i) => i.severity === 'error'), []);
  const gridded = project!.models.filter((m) => m.coords?.lat && m.coords?.lon);
  assert.ok(gridded.length > 0);
  for (const m of gridded) assert.deepEqual(m.regions, [{ name: 'Nino-3.4', lat: [-5, 5], lon: [190, 240] }], m.name);
});
