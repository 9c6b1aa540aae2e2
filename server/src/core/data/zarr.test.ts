/**
 * Zarr v2 and v3 stores written by fixtures/zarr/make_zarr.py (by hand from the specs, independent of
 * zarrita) from the real ERSSTv5 anomaly file: the values must equal the NetCDF reading of the same subset.
 * Codecs covered: v2 gzip (tos), zstd (tos_packed), blosc (lat), zlib (lon), none (time); v3 zstd (tos),
 * blosc (tos_packed, lon), gzip (lat), bytes only (time). Then hostile stores, each a modified copy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { REPO, SAMPLES, scratchDir } from '../../testing/paths.js';
import { errorCode as code } from '../../testing/lens-error.js';
import { detectFormat, describeFile, loadField, openSource, planField, readPlan } from './load.js';
import { readNpy } from './npy.js';
import { run as dataCli } from '../../cli/data.js';
import { buildModelInput } from './pipeline.js';
import { findEntry, readProject } from './project.js';

const FIX = join(REPO, 'server', 'src', 'core', 'data', 'fixtures', 'zarr');
const NC = join(SAMPLES, 'data', 'ersstv5_anom_5deg_1980-2018.nc');
const SUBSET = 'time=0:4,lon=0:36';
const STORES = { v2: join(FIX, 'ersst-v2.zarr'), v3: join(FIX, 'ersst-v3.zarr') } as const;
/** Chunk file of tos at chunk index (t, y, x) in each layout. */
const chunkFile = (v: 'v2' | 'v3', root: string, t: number, y: number, x: number): string =>
  v === 'v2' ? join(root, 'tos', `${t}.${y}.${x}`) : join(root, 'tos', 'c', String(t), String(y), String(x));

/** A fresh copy of a fixture store to damage. */
function copyStore(v: 'v2' | 'v3', name: string): string {
  const dir = join(scratchDir('zarr-hostile'), `${name}-${v}.zarr`);
  rmSync(dir, { recursive: true, force: true });
  cpSync(STORES[v], dir, { recursive: true });
  return dir;
}

function editJson(file: string, edit: (m: Record<string, unknown>) => void): void {
  const m = JSON.parse(readFileSync(file, 'utf8'));
  edit(m);
  writeFileSync(file, JSON.stringify(m));
}

const metaFile = (v: 'v2' | 'v3', root: string, arr = 'tos'): string => join(root, arr, v === 'v2' ? '.zarray' : 'zarr.json');

for (const v of ['v2', 'v3'] as const) {
  test(`Zarr ${v}: tos equals the NetCDF reading of the same subset, with CF coordinates and dates`, async () => {
    assert.equal(await detectFormat(STORES[v]), 'zarr');
    const z = await loadField(STORES[v], { variable: 'tos' });
    const n = await loadField(NC, { variable: 'tos', select: SUBSET });
    assert.deepEqual(z.shape, [4, 24, 36]);
    assert.deepEqual(z.dims, ['time', 'lat', 'lon']);
    assert.deepEqual(z.shape, n.shape);
    assert.deepEqual(Array.from(z.values), Array.from(n.values));
    assert.deepEqual(Array.from(z.mask), Array.from(n.mask));
    assert.deepEqual(Array.from(z.coords.lat!.values), Array.from(n.coords.lat!.values));
    assert.deepEqual(Array.from(z.coords.lon!.values), Array.from(n.coords.lon!.values));
    assert.deepEqual(z.coords.time!.dates, n.coords.time!.dates);
    assert.deepEqual(z.coords.time!.dates, ['1980-01-01', '1980-02-01', '1980-03-01', '1980-04-01']);
    assert.equal(z.coords.time!.calendar, '360_day');
    assert.equal(z.attrs.units, 'degree_C');
  });

  test(`Zarr ${v}: packed int16 with scale_factor and _FillValue decodes to the NetCDF values within half a step`, async () => {
    const z = await loadField(STORES[v], { variable: 'tos_packed' });
    const n = await loadField(NC, { variable: 'tos', select: SUBSET });
    assert.equal(z.packed, true);
    assert.equal(z.dtype, 'i2');
    let worst = 0;
    for (let i = 0; i < n.values.length; i++) worst = Math.max(worst, Math.abs(z.values[i] - n.values[i]));
    // Quantized to 0.01: half a step, plus float32 rounding of values below 2 (2^-23 * 2).
    assert.ok(worst <= 0.005 + 2.4e-7, `worst difference ${worst}`);
  });

  test(`Zarr ${v}: one time step of one latitude band reads only the two chunks it touches`, async () => {
    const s = await openSource(STORES[v]);
    try {
      const plan = await planField(s, { variable: 'tos', select: 'time=0:1,lat=0:12' });
      const coordBytes = s.bytesRead(); // the plan reads the coordinate arrays
      const f = await readPlan(plan);
      assert.deepEqual(f.shape, [1, 12, 36]);
      const want = statSync(chunkFile(v, STORES[v], 0, 0, 0)).size + statSync(chunkFile(v, STORES[v], 0, 0, 1)).size;
      assert.equal(s.bytesRead() - coordBytes, want);
      const n = await loadField(NC, { variable: 'tos', select: 'time=0:1,lat=0:12,lon=0:36' });
      assert.deepEqual(Array.from(f.values), Array.from(n.values));
    } finally {
      await s.close();
    }
  });

  test(`Zarr ${v}: describeFile and \`data export\` work on the store`, async () => {
    const d = await describeFile(STORES[v]);
    assert.equal(d.format, 'zarr');
    assert.deepEqual(d.variables.map((x) => x.name).sort(), ['lat', 'lon', 'time', 'tos', 'tos_packed']);
    assert.deepEqual(d.dims, { lat: 24, lon: 36, time: 4 });
    const out = join(scratchDir('zarr-export'), `tos-${v}.npy`);
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      assert.equal(await dataCli(['export', STORES[v], '--var', 'tos', '--select', 'time=2:4', '--out', out]), 0);
    } finally {
      process.stdout.write = write;
    }
    const arr = readNpy(new Uint8Array(readFileSync(out)));
    const n = await loadField(NC, { variable: 'tos', select: 'time=2:4,lon=0:36' });
    assert.deepEqual(arr.shape, [2, 24, 36]);
    assert.deepEqual(Array.from(arr.data), Array.from(n.values));
  });

  test(`Zarr ${v}: a missing chunk reads as the fill value (missing), the others unchanged`, async () => {
    const dir = copyStore(v, 'missing');
    rmSync(chunkFile(v, dir, 1, 1, 0));
    const z = await loadField(dir, { variable: 'tos' });
    const n = await loadField(NC, { variable: 'tos', select: SUBSET });
    let missing = 0;
    for (let t = 0; t < 4; t++)
      for (let y = 0; y < 24; y++)
        for (let x = 0; x < 36; x++) {
          const i = (t * 24 + y) * 36 + x;
          if (t >= 2 && y >= 12 && x < 18) {
            assert.ok(Number.isNaN(z.values[i]), `cell ${t},${y},${x} should be missing`);
            missing++;
          } else assert.equal(z.values[i], n.values[i]);
        }
    assert.equal(missing, 2 * 12 * 18);
  });

  test(`Zarr ${v}: metadata that is not JSON is BAD_JSON naming the store`, async () => {
    const dir = copyStore(v, 'badjson');
    writeFileSync(metaFile(v, dir), '{"zarr_format": 2, "shape": [4, ');
    assert.equal(await code(loadField(dir, { variable: 'tos' })), 'BAD_JSON');
  });

  test(`Zarr ${v}: a chunk that inflates to fewer values than declared is CORRUPT`, async () => {
    const dir = copyStore(v, 'short');
    const raw = new Uint8Array(100 * 4);
    if (v === 'v2') writeFileSync(chunkFile(v, dir, 0, 0, 0), gzipSync(raw)); // v2 tos is gzip
    else {
      // v3 tos is zstd: switch the array to gzip so the short chunk is the only lie.
      editJson(metaFile(v, dir), (m) => ((m.codecs as unknown[])[1] = { name: 'gzip', configuration: { level: 1 } }));
      writeFileSync(chunkFile(v, dir, 0, 0, 0), gzipSync(raw));
    }
    assert.equal(await code(loadField(dir, { variable: 'tos', select: 'time=0:1' })), 'CORRUPT');
  });

  test(`Zarr ${v}: a gzip chunk that inflates past its declared size (a bomb) is CORRUPT, not inflated`, async () => {
    const dir = copyStore(v, 'bomb');
    if (v === 'v3') editJson(metaFile(v, dir), (m) => ((m.codecs as unknown[])[1] = { name: 'gzip', configuration: { level: 1 } }));
    writeFileSync(chunkFile(v, dir, 0, 0, 0), gzipSync(new Uint8Array(4 * 1024 * 1024)));
    const err = await loadField(dir, { variable: 'tos', select: 'time=0:1' }).catch((e: Error) => e);
    assert.ok(err instanceof Error && /more than the 1728 /.test(err.message), String(err));
    assert.equal(await code(loadField(dir, { variable: 'tos', select: 'time=0:1' })), 'CORRUPT');
  });

  test(`Zarr ${v}: blosc and zstd headers that declare more bytes than the chunk holds are refused before decoding`, async () => {
    const dir = copyStore(v, 'headers');
    // tos_packed is zstd in v2 and blosc in v3; int16 chunks of 2x12x18 = 864 bytes.
    const file = v === 'v2' ? join(dir, 'tos_packed', '0.0.0') : join(dir, 'tos_packed', 'c', '0', '0', '0');
    const bytes = new Uint8Array(readFileSync(file));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (v === 'v3') view.setUint32(4, 1 << 30, true); // blosc nbytes
    else {
      // zstd: rewrite the frame header as single-segment with an 8-byte content size of 2^40.
      const out = new Uint8Array(14);
      out.set(bytes.subarray(0, 4));
      out[4] = 0xe0; // FCS 8 bytes, single segment, no dictionary
      new DataView(out.buffer).setUint32(9, 256, true);
      writeFileSync(file, out);
    }
    if (v === 'v3') writeFileSync(file, bytes);
    const err = await loadField(dir, { variable: 'tos_packed' }).catch((e: Error) => e);
    assert.ok(err instanceof Error && /decodes to \d+ bytes, more than the 864/.test(err.message), String(err));
  });

  test(`Zarr ${v}: huge declared shapes are refused from metadata, without allocating`, async () => {
    const dir = copyStore(v, 'huge');
    editJson(metaFile(v, dir), (m) => (m.shape = [2 ** 50, 24, 36]));
    // Listing still works; reading all of it is FILE_TOO_LARGE from the header alone.
    const d = await describeFile(dir);
    assert.deepEqual(d.variables.find((x) => x.name === 'tos')!.shape, [2 ** 50, 24, 36]);
    assert.equal(await code(loadField(dir, { variable: 'tos' })), 'FILE_TOO_LARGE');
    // A chunk shape of 2^40 values is refused before any chunk (present or missing) is made.
    editJson(metaFile(v, dir), (m) => {
      m.shape = [4, 24, 36];
      if (v === 'v2') m.chunks = [2 ** 20, 2 ** 20, 36];
      else (m.chunk_grid as { configuration: { chunk_shape: number[] } }).configuration.chunk_shape = [2 ** 20, 2 ** 20, 36];
    });
    assert.equal(await code(loadField(dir, { variable: 'tos', select: 'time=0:1' })), 'BUDGET_EXCEEDED');
    editJson(metaFile(v, dir), (m) => (m.shape = [4, -24, 36.5]));
    assert.equal(await code(loadField(dir, { variable: 'tos' })), 'CORRUPT');
  });

  test(`Zarr ${v}: a chunk file larger than its array allows is refused before it is read`, async () => {
    const dir = copyStore(v, 'bigfile');
    writeFileSync(chunkFile(v, dir, 0, 0, 0), new Uint8Array(2 * 1728 + 8192));
    assert.equal(await code(loadField(dir, { variable: 'tos', select: 'time=0:1' })), 'BUDGET_EXCEEDED');
  });

  test(`Zarr ${v}: a chunk that is a symlink leading outside the store is refused`, async () => {
    const dir = copyStore(v, 'symlink');
    const outside = join(scratchDir('zarr-hostile'), 'outside-chunk.bin');
    writeFileSync(outside, readFileSync(chunkFile(v, dir, 0, 0, 0)));
    rmSync(chunkFile(v, dir, 0, 0, 0));
    symlinkSync(outside, chunkFile(v, dir, 0, 0, 0));
    const err = await loadField(dir, { variable: 'tos', select: 'time=0:1' }).catch((e: Error) => e);
    assert.ok(err instanceof Error && /outside the store/.test(err.message), String(err));
    assert.equal(await code(loadField(dir, { variable: 'tos', select: 'time=0:1' })), 'CORRUPT');
  });

  test(`Zarr ${v}: a dim name given two sizes does not pair the data with a coordinate of the wrong length`, async () => {
    const dir = copyStore(v, 'dimsize');
    editJson(metaFile(v, dir, 'lat'), (m) => (m.shape = [10]));
    const f = await loadField(dir, { variable: 'tos', select: 'time=0:1' });
    assert.deepEqual(f.dims, ['time', 'tos_dim1', 'lon']);
    assert.equal(f.coords.lat, undefined);
    assert.equal(f.coords.lon!.values.length, 36);
  });

  test(`Zarr ${v}: an unknown codec is UNSUPPORTED_CONFIG`, async () => {
    const dir = copyStore(v, 'codec');
    editJson(metaFile(v, dir), (m) => {
      if (v === 'v2') m.compressor = { id: 'no-such-codec' };
      else (m.codecs as unknown[])[1] = { name: 'no-such-codec', configuration: {} };
    });
    assert.equal(await code(loadField(dir, { variable: 'tos', select: 'time=0:1' })), 'UNSUPPORTED_CONFIG');
  });
}

test('lrp-lens.json: an entry whose data.file is a Zarr store builds the same model input as the NetCDF file', async () => {
  const dir = scratchDir('zarr-project');
  const input = { sampleDim: 'time', layout: ['lat', 'lon', 'channel'], standardize: { anomaly: 'mean', std: 2 }, fillValue: 0, wrapLon: 2 };
  const entry = (name: string, file: string, select: Record<string, unknown>) => ({ name, model: `${name}.onnx`, data: { file, variable: 'tos', select }, input });
  const project = join(dir, 'lrp-lens.json');
  writeFileSync(project, JSON.stringify({ version: 1, models: [
    entry('zarr2', STORES.v2, { time: '1980-02:1980-04' }),
    entry('zarr3', STORES.v3, { time: '1980-02:1980-04' }),
    entry('netcdf', NC, { time: '1980-02:1980-04', lon: [0, 36] }),
  ] }));
  const p = await readProject(project);
  const want = await buildModelInput(findEntry(p, 'netcdf'), [null, 24, 40, 1]);
  assert.deepEqual(want.x.shape, [3, 24, 40, 1]);
  for (const name of ['zarr2', 'zarr3']) {
    const got = await buildModelInput(findEntry(p, name), [null, 24, 40, 1]);
    assert.deepEqual(got.x.shape, want.x.shape);
    assert.deepEqual(Array.from(got.x.data), Array.from(want.x.data), name);
    assert.deepEqual(got.times, want.times);
  }
});

test('a folder without Zarr metadata is not a store: FORMAT_UNKNOWN', async () => {
  const dir = join(scratchDir('zarr-hostile'), 'plain-folder');
  mkdirSync(dir, { recursive: true });
  assert.equal(await code(loadField(dir)), 'FORMAT_UNKNOWN');
});
