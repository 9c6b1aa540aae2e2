/**
 * Sequence mode (`input.sequence`) on the real ERSSTv5 5-degree anomalies (24 lat x 72 lon, land filled
 * in by the data set): each month becomes (time = lon, features = lat); expected values are read off the
 * grid input by index here, and the inverse mapping must give the grid back exactly. Masking is checked
 * on the 2-degree ERSSTv5 file, whose land cells are missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SAMPLES, scratchDir } from '../../testing/paths.js';
import { buildModelInput, sequenceToGrid, type ModelInput } from './pipeline.js';
import { KeyedError } from './keyed.js';
import { parseProject, type ModelEntry } from './project.js';

const FILE = join(SAMPLES, 'data', 'ersstv5_anom_5deg_1980-2018.nc');
const FILE_2DEG = join(SAMPLES, 'data', 'ersstv5_sst_2deg_2010-2020.nc');
const [LAT, LON, N] = [24, 72, 12];
const dir = scratchDir('pipeline-sequence');

/** One model entry reading 1997 from the ERSSTv5 file, with the given "input" and "mask". */
function entry(input: Record<string, unknown>, mask?: unknown, data: object = { file: FILE, variable: 'tos', select: { time: '1997-01:1997-12' } }): ModelEntry {
  const text = JSON.stringify({ models: [{ name: 'rnn', model: 'rnn.onnx', data, input, ...(mask ? { mask } : {}) }] });
  const { project, issues } = parseProject(text, join(dir, 'lrp-lens.json'));
  assert.ok(project, JSON.stringify(issues));
  assert.deepEqual(issues.filter((i) => i.severity === 'error'), []);
  return project.models[0];
}

/** The same data as a grid [N, lat, lon, 1] (no sequence). */
async function gridInput(): Promise<ModelInput> {
  const g = await buildModelInput(entry({ fillValue: -5 }), [null, LAT, LON, 1]);
  assert.deepEqual(g.x.shape, [N, LAT, LON, 1]);
  return g;
}

test('sequence time=lon: x[s, t, f] is the grid at (lat f, lon t); sequenceToGrid gives the grid back exactly', async () => {
  const grid = await gridInput();
  const mi = await buildModelInput(entry({ fillValue: -5, sequence: { time: 'lon' } }), [null, LON, LAT]);
  assert.deepEqual(mi.x.shape, [N, LON, LAT]);
  assert.deepEqual(mi.dims, ['time', 'lon', 'features']);
  assert.deepEqual(mi.sequence, { timeDim: 'lon', reverse: false, gridDims: ['lat', 'lon'], gridShape: [LAT, LON] });
  for (let s = 0; s < N; s++) for (let t = 0; t < LON; t++) for (let f = 0; f < LAT; f++) {
    assert.equal(mi.x.data[(s * LON + t) * LAT + f], grid.x.data[(s * LAT + f) * LON + t], `s${s} t${t} f${f}`);
  }
  assert.deepEqual(sequenceToGrid(mi.sequence!, mi.x.data, N), grid.x.data);
});

test('sequence reverse: step t is longitude 71 - t; the inverse undoes the reversal', async () => {
  const fwd = await buildModelInput(entry({ sequence: { time: 'lon' } }), [null, LON, LAT]);
  const rev = await buildModelInput(entry({ sequence: { time: 'lon', reverse: true } }), [null, LON, LAT]);
  assert.equal(rev.sequence!.reverse, true);
  for (let s = 0; s < N; s++) for (let t = 0; t < LON; t++) for (let f = 0; f < LAT; f++) {
    assert.equal(rev.x.data[(s * LON + t) * LAT + f], fwd.x.data[(s * LON + (LON - 1 - t)) * LAT + f]);
  }
  assert.deepEqual(sequenceToGrid(rev.sequence!, rev.x.data, N), sequenceToGrid(fwd.sequence!, fwd.x.data, N));
});

test('sequence on the 2-degree SST with mask "missing": land cells get the fill value, ocean cells keep theirs', async () => {
  const [Y, X, M] = [89, 180, 3];
  const data = { file: FILE_2DEG, variable: 'sst', select: { time: '2015-01:2015-03' } };
  const grid = await buildModelInput(entry({ fillValue: -5 }, 'missing', data), [null, Y, X, 1]);
  const mi = await buildModelInput(entry({ fillValue: -5, sequence: { time: 'lon', reverse: true } }, 'missing', data), [null, X, Y]);
  assert.deepEqual(mi.x.shape, [M, X, Y]);
  assert.deepEqual(mi.mask!.shape, [Y, X]);
  const back = sequenceToGrid(mi.sequence!, mi.x.data, M);
  const mask = mi.mask!.data;
  const ocean = mask.reduce((a, b) => a + b, 0);
  assert.equal(ocean, 10988, 'the ocean cells of the 2-degree grid');
  for (let s = 0; s < M; s++) for (let c = 0; c < Y * X; c++) {
    const want = mask[c] ? grid.x.data[s * Y * X + c] : -5;
    assert.equal(back[s * Y * X + c], want, `s${s} cell ${c}`);
  }
  // Step t is longitude X - 1 - t: the first step holds the easternmost column.
  for (let f = 0; f < Y; f++) assert.equal(mi.x.data[f], back[f * X + X - 1]);
});

test('sequence with wrapLon: the wrapped longitudes are extra steps', async () => {
  const mi = await buildModelInput(entry({ wrapLon: 2, sequence: { time: 'lon' } }), [null, LON + 4, LAT]);
  assert.deepEqual(mi.x.shape, [N, LON + 4, LAT]);
  assert.deepEqual(mi.sequence!.gridShape, [LAT, LON + 4]);
  // Step 0 is longitude 70 (copied from the east end), step 2 is longitude 0.
  for (let f = 0; f < LAT; f++) {
    assert.equal(mi.x.data[0 * LAT + f], mi.x.data[(LON + 0) * LAT + f]);
    assert.equal(mi.x.data[2 * LAT + f], mi.x.data[(LON + 2) * LAT + f]);
  }
});

test('sequence shape errors name the model\'s expected shape and the dim that would fit; bad time dims and flatten are refused', async () => {
  const err = async (input: Record<string, unknown>, shape: (number | null)[]): Promise<KeyedError> => {
    try {
      await buildModelInput(entry(input), shape, { dryRun: true });
    } catch (e) {
      assert.ok(e instanceof KeyedError, String(e));
      return e;
    }
    return assert.fail('expected an error');
  };
  const wrongF = await err({ sequence: { time: 'lon' } }, [null, LON, 20]);
  assert.equal(wrongF.code, 'SHAPE_MISMATCH');
  assert.match(wrongF.message, /\[12, 72, 24\]/);
  assert.match(wrongF.message, /model expects \[N, 72, 20\]/);
  assert.deepEqual(wrongF.keyPath, ['models', 0, 'input', 'sequence']);
  const swapped = await err({ sequence: { time: 'lon' } }, [null, LAT, LON]);
  assert.match(swapped.message, /model expects \[N, 24, 72\]/);
  assert.match(swapped.message, /"time": "lat"/);
  const rank = await err({ sequence: { time: 'lon' } }, [null, LAT, LON, 1]);
  assert.match(rank.message, /model expects \[N, 24, 72, 1\].*\(sample, time, features\)/);
  const unknown = await err({ sequence: { time: 'longitude' } }, [null, LON, LAT]);
  assert.equal(unknown.code, 'UNKNOWN_VARIABLE');
  assert.deepEqual(unknown.keyPath, ['models', 0, 'input', 'sequence', 'time']);
  const open = await buildModelInput(entry({ sequence: { time: 'lon' } }), [null, null, LAT], { dryRun: true });
  assert.deepEqual(open.x.shape, [N, LON, LAT], 'an open time axis takes any number of steps');
});

test('sequenceToGrid refuses an array of the wrong size', () => {
  const seq = { timeDim: 'lon', reverse: false, gridDims: ['lat', 'lon'], gridShape: [2, 3] };
  assert.deepEqual(Array.from(sequenceToGrid(seq, [0, 3, 1, 4, 2, 5], 1)), [0, 1, 2, 3, 4, 5]);
  assert.throws(() => sequenceToGrid(seq, new Float32Array(5), 1), RangeError);
});

test('project validation of input.sequence: time required, reverse boolean, no flatten, unknown keys warned', () => {
  const text = JSON.stringify({
    models: [
      { name: 'a', model: 'a.h5', data: { file: 'x.nc' }, input: { sequence: { reverse: 'yes', step: 1 } } },
      { name: 'b', model: 'b.h5', data: { file: 'x.nc' }, input: { flatten: true, sequence: { time: 'lon' } } },
    ],
  });
  const { issues } = parseProject(text, join(dir, 'lrp-lens.json'));
  const find = (re: RegExp) => issues.find((i) => re.test(i.message));
  assert.deepEqual(find(/'time' is required/)?.path, ['models', 0, 'input', 'sequence']);
  assert.deepEqual(find(/'reverse' must be true or false/)?.path, ['models', 0, 'input', 'sequence', 'reverse']);
  assert.equal(find(/unknown key 'step'/)?.severity, 'warning');
  assert.deepEqual(find(/'sequence' and 'flatten' exclude each other/)?.path, ['models', 1, 'input', 'sequence']);
});
