/**
 * Project-file hints speak of the file, not the command line, and suggest what the file holds: for
 * "variable": "sst" in a file whose only data variable is tos, tos (not the coordinate lat).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO, SAMPLES } from '../../testing/paths.js';
import { validateProject } from './projectcheck.js';

const D5 = join(SAMPLES, 'data', 'ersstv5_anom_5deg_1980-2018.nc');
const ZARR = join(REPO, 'server', 'src', 'core', 'data', 'fixtures', 'zarr', 'ersst-v2.zarr');

async function issuesOf(data: Record<string, unknown>) {
  const text = JSON.stringify({ version: 1, models: [{ model: 'models/cnn_same_maxpool/model.h5', data, input: { sampleDim: 'time' } }] }, null, 2);
  const { issues } = await validateProject(text, join(SAMPLES, 'lrp-lens.json'));
  return issues.filter((i) => i.severity === 'error');
}

test('"variable": "sst" in a file whose only data variable is tos: set it to tos, not lat', async () => {
  const [i] = await issuesOf({ file: D5, variable: 'sst' });
  assert.equal(i.code, 'UNKNOWN_VARIABLE');
  assert.deepEqual(i.path, ['models', 0, 'data', 'variable']);
  assert.equal(i.message, `no variable 'sst' in ersstv5_anom_5deg_1980-2018.nc: set "variable" to "tos", the only data variable of ersstv5_anom_5deg_1980-2018.nc`);
  assert.doesNotMatch(i.message, /lat|lon|time/);
});

test('a typo among several data variables: the closest data variable; no variable given: the file\'s words, not --var', async () => {
  const [typo] = await issuesOf({ file: ZARR, variable: 'tos_pack' });
  assert.match(typo.message, /Did you mean 'tos_packed'\? Data variables: tos, tos_packed$/);
  const [none] = await issuesOf({ file: ZARR });
  assert.equal(none.code, 'UNKNOWN_VARIABLE');
  assert.deepEqual(none.path, ['models', 0, 'data', 'file']);
  assert.equal(none.message, 'ersst-v2.zarr has 2 data variables: set "variable" to one of: tos, tos_packed');
  assert.doesNotMatch(none.message, /--/);
});
