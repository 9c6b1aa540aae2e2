import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, SAMPLES } from '../../server/src/testing/paths.js';
import { detectFormat } from '../../server/src/core/data/load.js';
import { DATA_EXTENSIONS, DATA_FILTERS, byNearness, isDataPath, isReadyInputs, zarrStores } from './data-files.js';

const FIXTURES = join(REPO, 'server', 'src', 'core', 'data', 'fixtures');

test('every sample data file and Zarr store the readers open is offered; the index text is not', async () => {
  const files = [
    ...readdirSync(join(SAMPLES, 'data')).map((f) => join(SAMPLES, 'data', f)),
    join(FIXTURES, 'features.csv'),
    join(FIXTURES, 'zarr', 'ersst-v2.zarr'),
    join(FIXTURES, 'zarr', 'ersst-v3.zarr'),
  ];
  const formats: Record<string, string> = {};
  for (const f of files) {
    if (f.endsWith('.md')) continue;
    const format = await detectFormat(f);
    formats[f.split('/').pop()!] = format;
    // Gridded and tabular data are offered; a CPC index text is labels, not a field to explain a model on.
    assert.equal(isDataPath(f), format !== 'cpc-index', `${f} (${format})`);
  }
  assert.deepEqual(Object.values(formats).sort(), ['cpc-index', 'csv', 'netcdf3', 'netcdf4', 'zarr', 'zarr'].sort());
});

test('the dialog filters and the explorer menu name the same extensions', () => {
  assert.deepEqual(DATA_FILTERS['Data files'], [...DATA_EXTENSIONS]);
  for (const group of Object.values(DATA_FILTERS)) for (const e of group) assert.ok((DATA_EXTENSIONS as readonly string[]).includes(e), e);
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { contributes: { menus: Record<string, { command: string; when: string }[]>; commands: { command: string }[] } };
  const menu = pkg.contributes.menus['explorer/context'].find((m) => m.command === 'lrpLens.explainOnData')!;
  const re = new RegExp(/=~ \/(.*)\/i/.exec(menu.when)![1], 'i');
  for (const e of DATA_EXTENSIONS) if (e !== 'h5' && e !== 'hdf5') assert.ok(re.test(`.${e}`), `the menu's when takes .${e}`);
  assert.ok(!re.test('.h5'), 'an .h5 in the explorer is a model (its own menu entry), not data');
  assert.match(menu.when, /explorerResourceIsFolder && resourceExtname == \.zarr/);
  const ids = pkg.contributes.commands.map((c) => c.command);
  for (const id of ['lrpLens.addData', 'lrpLens.explainOnData']) assert.ok(ids.includes(id), id);
});

test('Zarr stores are the outermost folders with a marker; data near the model come first', () => {
  assert.deepEqual(zarrStores(['/w/a.zarr/.zgroup', '/w/a.zarr/tos/.zarray', '/w/a.zarr/lat/.zarray', '/w/b/c.zarr/zarr.json', '/w/b/c.zarr/tos/zarr.json']), ['/w/a.zarr', '/w/b/c.zarr']);
  assert.deepEqual(byNearness(['/w/data/x.nc', '/w/models/cnn/x.npy', '/w/models/y.nc', '/w/a.nc'], '/w/models/cnn/model.h5'), ['/w/models/cnn/x.npy', '/w/models/y.nc', '/w/a.nc', '/w/data/x.nc']);
  assert.equal(isReadyInputs('/w/x.npy'), true);
  assert.equal(isReadyInputs('/w/x.npz'), false);
  assert.equal(isDataPath('/w/store.zarr'), true);
  assert.equal(isDataPath('/w/model.onnx'), false);
});
