/**
 * Damaged Keras-family files (flipped bytes, truncation, retyped or deleted JSON fields): every load
 * either succeeds or fails with a LensError, quickly, never with another exception. A small seeded run
 * here; the project-wide fuzz test covers more.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REF, scratchDir } from '../../../testing/paths.js';
import { LensError } from '../../errors.js';
import { loadKerasH5 } from './keras-h5.js';
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
  const t0 = Date.now();
  let code = 'ok';
  try {
    await load();
  } catch (e) {
    assert.ok(e instanceof LensError, `not a LensError: ${String(e)}`);
    code = e.code;
  }
  assert.ok(Date.now() - t0 < 2000, 'took over 2 s');
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
