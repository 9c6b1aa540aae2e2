/**
 * Damaged Keras-family files (flipped bytes, truncation, retyped or deleted JSON fields): every load
 * either succeeds or fails with a LensError, never with another exception. A small seeded run here; the
 * project-wide fuzz test covers more (and holds each run to its CPU budget).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REAL, REF, scratchDir } from '../../../testing/paths.js';
import { LensError } from '../../errors.js';
import h5wasm from 'h5wasm/node';
import { loadKerasH5 } from './keras-h5.js';
import { attrString, openH5, type Group } from './hdf5.js';
import { loadKerasV3 } from './keras-v3.js';
import { loadTfjsLayers } from './tfjs-layers.js';
import { kerasConfigToV3, readKerasH5Raw } from '../writers/keras-h5-writer.js';
import { writeKerasZip } from '../writers/keras-zip-writer.js';

const dir = scratchDir('keras-robustness');
let seed = 20240611;
const rnd = (): number => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)];

async function outcome(load: () => Promise<unknown>): Promise<string> {
  let code = 'ok';
  try {
    await load();
  } catch (e) {
    assert.ok(e instanceof LensError, `not a LensError: ${String(e)}`);
    code = e.code;
  }
  return code;
}

function damage(bytes: Uint8Array, flips: number): Uint8Array {
  const b = Uint8Array.from(bytes);
  if (rnd() < 0.25) return b.subarray(0, Math.floor(rnd() * b.length));
  for (let k = 0; k < flips; k++) b[Math.floor(rnd() * b.length)] ^= 1 << Math.floor(rnd() * 8);
  return b;
}

test('damaged .h5, .keras and TF.js files load or fail with a LensError', async () => {
  const h5 = new Uint8Array(readFileSync(join(REF, 'cnn_same', 'model.h5')));
  const kerasFile = join(dir, 'src.keras');
  const raw = await readKerasH5Raw(join(REF, 'cnn_same', 'model.h5'));
  await writeKerasZip(kerasFile, kerasConfigToV3(raw.config), raw.weights);
  const keras = new Uint8Array(readFileSync(kerasFile));
  const tfjsText = readFileSync(join(REF, 'cnn_same', 'tfjs', 'model.json'), 'utf8');
  if (!existsSync(join(dir, 'group1-shard1of1.bin'))) copyFileSync(join(REF, 'cnn_same', 'tfjs', 'group1-shard1of1.bin'), join(dir, 'group1-shard1of1.bin'));
  const seen = new Map<string, number>();
  const count = (c: string): void => void seen.set(c, (seen.get(c) ?? 0) + 1);
  for (let i = 0; i < 15; i++) {
    // Flips in the first 4 KiB hit headers and metadata rather than weight values.
    const hb = Uint8Array.from(h5);
    hb.set(damage(h5.subarray(0, 4096), 1 + Math.floor(rnd() * 8)));
    writeFileSync(join(dir, 'm.h5'), rnd() < 0.2 ? damage(h5, 3) : hb);
    count(await outcome(() => loadKerasH5(join(dir, 'm.h5'))));
    writeFileSync(join(dir, 'm.keras'), damage(keras, 1 + Math.floor(rnd() * 8)));
    count(await outcome(() => loadKerasV3(join(dir, 'm.keras'))));
    const j = JSON.parse(tfjsText);
    const layer = pick(j.modelTopology.config.layers as { class_name?: string; config: Record<string, unknown> }[]);
    const key = pick(Object.keys(layer.config));
    const r = rnd();
    if (r < 0.3) delete layer.config[key];
    else if (r < 0.6) layer.config[key] = pick([null, 'x', -1, 1e12, {}, [], true, [0, 0]]);
    else if (r < 0.75) delete layer.class_name;
    else pick(j.weightsManifest[0].weights as { shape: unknown }[]).shape = pick([[3], [-1], 'x', [1e9, 1e9]]);
    let text = JSON.stringify(j);
    if (rnd() < 0.2) text = text.slice(0, Math.floor(rnd() * text.length));
    writeFileSync(join(dir, 'model.json'), text);
    count(await outcome(() => loadTfjsLayers(join(dir, 'model.json'))));
  }
  // The damage was real: several different refusals came back.
  assert.ok(seen.size >= 4, JSON.stringify([...seen]));
  // And the library still reads good files afterwards.
  assert.equal((await loadKerasH5(join(REF, 'cnn_same', 'model.h5'))).nodes.length, 8);
});

test('a string attribute whose stored length claims a gigabyte: CORRUPT with the cause, and the HDF5 heap stays small', async () => {
  // The case the fuzz test found: one flipped byte in a real Keras 2 file made HDF5 allocate and fill
  // 1.1 GB for model_config (2.4 s of CPU on CI, and the process kept the memory).
  const src = join(REAL, 'sevir', 'sub-sevir-cnn-reg-1d.h5');
  const bytes = Buffer.from(readFileSync(src));
  const h = await openH5(src);
  const cfgBytes = Buffer.byteLength(attrString(h.file as unknown as Group, 'model_config') ?? '');
  h.close();
  // Attribute message v1: the name padded to 16 bytes, the datatype to 24, a scalar dataspace of 8,
  // then the variable-length string's 4-byte length (and its global-heap address).
  const lenAt = bytes.indexOf(Buffer.from('model_config\0')) + 16 + 24 + 8;
  assert.equal(bytes.readUInt32LE(lenAt), cfgBytes, 'the stored length is where the layout says');
  bytes[lenAt + 3] = 0x44;
  const bad = join(dir, 'vlen-length.h5');
  writeFileSync(bad, bytes);
  await assert.rejects(loadKerasH5(bad), (e: unknown) => {
    assert.ok(e instanceof LensError && e.code === 'CORRUPT', String(e));
    assert.match(e.message, /asks for \d+ MiB of memory/);
    return true;
  });
  const heap = ((await h5wasm.ready) as unknown as { HEAPU8: Uint8Array }).HEAPU8.length;
  assert.ok(heap < 256 * 2 ** 20, `HDF5 heap grew to ${heap} bytes`);
  // The library still reads the intact file.
  assert.ok((await loadKerasH5(src)).nodes.length > 0);
});
