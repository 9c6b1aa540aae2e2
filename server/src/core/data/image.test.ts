import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { scratchDir } from '../../testing/paths.js';
import { LensError } from '../errors.js';
import { loadField, openSource } from './load.js';

const W = 5, H = 4;
/** Known RGB pixels: r = 10*x, g = 50*y, b = 255 - 7*(x+y). */
function pixels(): Uint8Array {
  const p = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) p.set([10 * x, 50 * y, 255 - 7 * (x + y)], (y * W + x) * 3);
  return p;
}

for (const fmt of ['png', 'tiff', 'webp'] as const) {
  test(`${fmt} from sharp (lossless): RGB values scaled 0-1, [H, W, 3]`, async () => {
    const file = join(scratchDir('data-image'), `rgb.${fmt}`);
    const raw = pixels();
    let img = sharp(Buffer.from(raw), { raw: { width: W, height: H, channels: 3 } });
    img = fmt === 'png' ? img.png() : fmt === 'tiff' ? img.tiff({ compression: 'lzw' }) : img.webp({ lossless: true });
    await img.toFile(file);
    const f = await loadField(file);
    assert.deepEqual(f.shape, [H, W, 3]);
    assert.deepEqual(f.dims, ['y', 'x', 'channel']);
    assert.equal(f.attrs.channel_order, 'rgb');
    raw.forEach((v, i) => assert.ok(Math.abs(f.values[i] - v / 255) < 1e-6, `${i}`));
    const bgr = await loadField(file, { image: { channels: 'bgr', scale: '0-255' } });
    assert.equal(bgr.values[0], raw[2]);
    assert.equal(bgr.values[2], raw[0]);
    const sym = await loadField(file, { image: { scale: '-1-1' }, select: 'y=1,x=2' });
    assert.deepEqual(sym.shape, [3]);
    const at = (1 * W + 2) * 3;
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(sym.values[c] - (2 * raw[at + c] / 255 - 1)) < 1e-6);
  });
}

test('16-bit grey PNG keeps its depth; JPEG reads approximately; a broken image is CORRUPT', async () => {
  const dir = scratchDir('data-image');
  const g = new Uint16Array(W * H).map((_, i) => i * 3000);
  const png16 = join(dir, 'grey16.png');
  // A Uint16Array input tells sharp the samples are 16-bit.
  await sharp(g, { raw: { width: W, height: H, channels: 1 } }).toColourspace('grey16').png().toFile(png16);
  const f = await loadField(png16, { image: { channels: 'grayscale' } });
  assert.deepEqual(f.shape, [H, W, 1]);
  assert.equal(f.attrs.bit_depth, 16);
  g.forEach((v, i) => assert.ok(Math.abs(f.values[i] - v / 65535) < 1e-6, `${i}: ${f.values[i]} vs ${v / 65535}`));
  const jpg = join(dir, 'flat.jpg');
  await sharp({ create: { width: 16, height: 8, channels: 3, background: { r: 200, g: 100, b: 50 } } }).jpeg({ quality: 95 }).toFile(jpg);
  const j = await loadField(jpg);
  assert.deepEqual(j.shape, [8, 16, 3]);
  assert.ok(Math.abs(j.values[0] - 200 / 255) < 0.02 && Math.abs(j.values[1] - 100 / 255) < 0.02);
  const broken = join(dir, 'broken.png');
  writeFileSync(broken, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]));
  await assert.rejects(openSource(broken).then((s) => s.read('image', [[0, 1], [0, 1], [0, 1]])), (e: LensError) => e.code === 'CORRUPT');
});
