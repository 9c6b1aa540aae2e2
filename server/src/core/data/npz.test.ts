import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, openSync, closeSync, writeSync, ftruncateSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { BENCH, REF, scratchDir } from '../../testing/paths.js';
import { LensError } from '../errors.js';
import { loadField, openSource, planField, readPlan, withSource } from './load.js';
import { writeNpy } from './npy.js';
import { readNpyFile } from '../../testing/arrays.js';
import { errorCode as code } from '../../testing/lens-error.js';

const FILES = {
  x_cnn: join(REF, 'cnn_same', 'x_nhwc.npy'),
  x_cnn_nchw: join(REF, 'cnn_same', 'x_nchw.npy'),
  x_mlp: join(REF, 'mlp', 'x_nhwc.npy'),
  batch: join(BENCH, 'batch64_nhwc.npy'),
};

for (const level of [0, 6] as const) {
  test(`.npz ${level === 0 ? 'stored' : 'deflated'} from NumPy's .npy files: every array equals readNpy of the original`, async () => {
    const members: Record<string, Uint8Array> = {};
    for (const [k, p] of Object.entries(FILES)) members[`${k}.npy`] = new Uint8Array(readFileSync(p));
    const npz = join(scratchDir('data-npz'), `arrays-${level}.npz`);
    writeFileSync(npz, zipSync(members, { level }));
    await withSource(npz, {}, async (s) => {
      assert.equal(s.format, 'npz');
      assert.deepEqual(s.variables.map((v) => v.name).sort(), Object.keys(FILES).sort());
      for (const [k, p] of Object.entries(FILES)) {
        const ref = readNpyFile(p);
        const f = await readPlan(await planField(s, { variable: k }));
        assert.deepEqual(f.shape, ref.shape);
        assert.deepEqual(Array.from(f.values), Array.from(ref.data as Float32Array));
      }
    });
    const one = await loadField(npz, { variable: 'batch', select: 'batch_dim_0=5' });
    const ref = readNpyFile(FILES.batch);
    const n = 89 * 180;
    assert.deepEqual(Array.from(one.values), Array.from((ref.data as Float32Array).subarray(5 * n, 6 * n)));
  });
}

test('.npz guards: names leaving the archive and zip bombs are ZIP_UNSAFE; a cut file is TRUNCATED/CORRUPT', async () => {
  const dir = scratchDir('data-npz-bad');
  const npy = new Uint8Array(readFileSync(FILES.x_mlp));
  const slip = join(dir, 'slip.npz');
  writeFileSync(slip, zipSync({ '../evil.npy': npy }));
  assert.equal(await code(openSource(slip)), 'ZIP_UNSAFE');
  // A central directory that declares a 4 GB member (a bomb) is refused before inflating.
  const zip = zipSync({ 'a.npy': npy }, { level: 6 });
  const cd = zip.findIndex((_, i) => zip[i] === 0x50 && zip[i + 1] === 0x4b && zip[i + 2] === 1 && zip[i + 3] === 2);
  new DataView(zip.buffer, zip.byteOffset).setUint32(cd + 24, 0xfffffff0, true);
  const bomb = join(dir, 'bomb.npz');
  writeFileSync(bomb, zip);
  assert.equal(await code(openSource(bomb)), 'ZIP_UNSAFE');
  const good = zipSync({ 'a.npy': npy }, { level: 6 });
  const cut = join(dir, 'cut.npz');
  writeFileSync(cut, good.subarray(0, Math.floor(good.length / 2)));
  const c = await code(openSource(cut));
  assert.ok(c === 'TRUNCATED' || c === 'CORRUPT', c);
  await assert.rejects(loadField(join(dir, 'none.npz')), (e: LensError) => e.code === 'FILE_NOT_FOUND');
});

test('.npy read lazily: one sample of the 64-sample batch reads 89*180*4 bytes', async () => {
  await withSource(FILES.batch, {}, async (s) => {
    const ref = readNpyFile(FILES.batch);
    const p = await planField(s, { select: 'dim_0=17' });
    const f = await readPlan(p);
    assert.equal(s.bytesRead(), 89 * 180 * 4);
    assert.deepEqual(f.shape, [89, 180, 1]);
    const n = 89 * 180;
    assert.deepEqual(Array.from(f.values), Array.from((ref.data as Float32Array).subarray(17 * n, 18 * n)));
  });
});

/** A .npy with a hand-written header (the forms NumPy writes for '>f8' and fortran_order=True). */
function npyWith(descr: string, fortran: boolean, shape: number[], body: Uint8Array): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(body, 10 + header.length);
  return out;
}

test('.npy big-endian and Fortran order: selections match the C-order values', async () => {
  const dir = scratchDir('data-npy');
  // 2x3 values 0..5 in C order; Fortran order stores columns first: 0,3,1,4,2,5.
  const be = new Uint8Array(6 * 8);
  const dv = new DataView(be.buffer);
  [0, 3, 1, 4, 2, 5].forEach((v, i) => dv.setFloat64(i * 8, v + 0.5, false));
  const p = join(dir, 'be_fortran.npy');
  writeFileSync(p, npyWith('>f8', true, [2, 3], be));
  const f = await loadField(p, { select: 'dim_1=1:3' });
  assert.deepEqual(Array.from(f.values), [1.5, 2.5, 4.5, 5.5]);
  const le = join(dir, 'i2.npy');
  writeFileSync(le, writeNpy(Int16Array.from([-3, 7, 300, -32768]), [2, 2]));
  const g = await loadField(le, { select: 'dim_0=1' });
  assert.deepEqual(Array.from(g.values), [300, -32768]);
});

test('.npy too large to hold: FILE_TOO_LARGE for the whole, one row still readable; a short file is TRUNCATED', async () => {
  const dir = scratchDir('data-npy-big');
  const big = join(dir, 'big.npy');
  const head = npyWith('<f4', false, [60000, 60000], new Uint8Array(0));
  const fd = openSync(big, 'w');
  writeSync(fd, head);
  ftruncateSync(fd, head.length + 60000 * 60000 * 4); // sparse: 14.4 GB declared, no disk used
  closeSync(fd);
  assert.equal(await code(loadField(big)), 'FILE_TOO_LARGE');
  await withSource(big, {}, async (s) => {
    const f = await readPlan(await planField(s, { select: 'dim_0=123' }));
    assert.deepEqual(f.shape, [60000]);
    assert.equal(s.bytesRead(), 60000 * 4);
  });
  rmSync(big);
  const short = join(dir, 'short.npy');
  writeFileSync(short, npyWith('<f4', false, [100, 100], new Uint8Array(400)));
  assert.equal(await code(openSource(short)), 'TRUNCATED');
  const bad = join(dir, 'bad.npy');
  writeFileSync(bad, Buffer.from('\x93NUMPY\x01\x00\x10\x00{garbage header}'));
  const c = await code(openSource(bad));
  assert.ok(c === 'CORRUPT' || c === 'TRUNCATED', c);
});
