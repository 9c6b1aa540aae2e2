import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import {
  DIVERGING, LUT_MAX, colorOf, divergingIndex, percentile, relevanceLimits, sharedLimits, valueToBarY,
} from './colormap.js';
import { cellRaster, colorbarRaster, effectiveMask, upscale, hatchTile } from './raster.js';
import { coastlinePath, geoFrame, latToY, lonToX } from './geo.js';
import { renderPng } from './png.js';
import { findingsToCsv } from './csv.js';
import { pngViewOf } from './png-request.js';
import { loadReference, loadSst, nino34Relevance, sstAnomaly } from '../../testing/sst-fixtures.js';

const require = createRequire(import.meta.url);

test('the diverging map is white at zero, red for positive and blue for negative relevance', () => {
  const lim = { vmin: -2, vmax: 2 };
  assert.deepEqual(colorOf(DIVERGING, divergingIndex(0, lim)), [255, 255, 255]);
  const [r, g, b] = colorOf(DIVERGING, divergingIndex(2, lim));
  assert.ok(r > 80 && r > 2 * b && r > 2 * g, `positive end ${[r, g, b]}`);
  const [r2, , b2] = colorOf(DIVERGING, divergingIndex(-2, lim));
  assert.ok(b2 > 2 * r2, 'negative end is blue');
  // Asymmetric limits still put zero at white and each end at the map's ends.
  const skew = { vmin: -1, vmax: 4 };
  assert.equal(divergingIndex(0, skew), LUT_MAX / 2);
  assert.equal(divergingIndex(4, skew), LUT_MAX);
  assert.equal(divergingIndex(-1, skew), 0);
});

test('symmetric limits are +-max|R| of a Zennit map; percentile clipping lowers them', () => {
  const ref = loadReference();
  const cells = ref.height * ref.width;
  const r0 = ref.relevance['epsilon_1e-6'].subarray(0, cells);
  let m = 0;
  for (const v of r0) m = Math.max(m, Math.abs(v));
  const lim = relevanceLimits(r0);
  assert.equal(lim.vmax, m);
  assert.equal(lim.vmin, -m);
  const clipped = relevanceLimits(r0, { percentile: 99 });
  assert.ok(clipped.vmax < m && clipped.vmax > 0 && clipped.vmin === -clipped.vmax);
  // Percentile as numpy's default (linear): 1..100 at p=90 is 90.1.
  assert.ok(Math.abs(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 90) - 90.1) < 1e-9);
  // Non-symmetric limits keep zero inside.
  const asym = relevanceLimits(Float32Array.from([0.1, 0.2, 0.5]), { symmetric: false });
  assert.deepEqual(asym, { vmin: 0, vmax: 0.5 });
  // A shared scale covers both maps.
  const r1 = ref.relevance['epsilon_gamma_box'].subarray(0, cells);
  const shared = sharedLimits([r0, r1]);
  assert.ok(shared.vmax >= m && shared.vmax >= relevanceLimits(r1).vmax);
});

test('the cell of strongest positive relevance is drawn in the positive end colour', () => {
  const ref = loadReference();
  const cells = ref.height * ref.width;
  const rel = ref.relevance['epsilon_1e-6'].subarray(cells, 2 * cells);
  let best = 0;
  for (let i = 1; i < cells; i++) if (rel[i] > rel[best]) best = i;
  const lim = relevanceLimits(rel);
  const px = cellRaster({ width: ref.width, height: ref.height, mode: 'relevance', relevance: rel, relLimits: lim });
  if (rel[best] === lim.vmax) assert.deepEqual(Array.from(px.subarray(best * 4, best * 4 + 3)), colorOf(DIVERGING, LUT_MAX));
  const [r, g, b] = px.subarray(best * 4, best * 4 + 3);
  assert.ok(r > 2 * b && r > 2 * g, `strong positive cell is red: ${[r, g, b]}`);
});

test('masked cells are hatched on upscaling and unmasked cells are plain', () => {
  const rel = Float32Array.from([1, 0, NaN, -1]);
  const input = Float32Array.from([1, 2, NaN, 3]);
  const spec = { width: 2, height: 2, mode: 'relevance' as const, relevance: rel, input, relLimits: { vmin: -1, vmax: 1 } };
  const mask = effectiveMask(spec)!;
  assert.deepEqual(Array.from(mask), [0, 0, 1, 0]);
  const px = upscale(cellRaster(spec), 2, 2, 12, 12, mask);
  const colours = (cx: number, cy: number) => {
    const s = new Set<string>();
    for (let y = cy * 12; y < cy * 12 + 12; y++) for (let x = cx * 12; x < cx * 12 + 12; x++) s.add(px.subarray((y * 24 + x) * 4, (y * 24 + x) * 4 + 3).join());
    return s;
  };
  assert.equal(colours(0, 0).size, 1);
  assert.equal(colours(1, 1).size, 1);
  assert.equal(colours(0, 1).size, 2, 'masked cell: background and hatch lines');
  assert.ok(hatchTile().some((v, i) => i % 4 === 3 && v > 0));
});

test('the colour bar is symmetric: mirrored rows are mirrored colours, white in the middle', () => {
  const bar = colorbarRaster(DIVERGING, 257, 4, true);
  const row = (y: number) => Array.from(bar.subarray(y * 16, y * 16 + 3));
  assert.deepEqual(row(128), [255, 255, 255]);
  assert.deepEqual(row(0), colorOf(DIVERGING, LUT_MAX));
  assert.deepEqual(row(256), colorOf(DIVERGING, 0));
  assert.equal(valueToBarY(0, { vmin: -3, vmax: 3 }, 257, 'diverging'), 128);
  assert.equal(valueToBarY(3, { vmin: -3, vmax: 3 }, 257, 'diverging'), 0);
});

test('coastlines from Natural Earth fall on the ERSSTv5 land-sea boundary', async () => {
  const sst = await loadSst();
  const frame = geoFrame({ lat: sst.lat, lon: sst.lon })!;
  assert.equal(frame.flipRows, false);
  assert.equal(frame.lonWest, -1);
  const W = 180 * 4;
  const H = 89 * 4;
  assert.equal(lonToX(frame, 0, W), 2); // cell centre 0E is half a 4-pixel cell from the left edge at -1
  assert.equal(lonToX(frame, 357, W), W - 4);
  assert.equal(latToY(frame, 89, H), 0);
  const topo = JSON.parse(readFileSync(require.resolve('world-atlas/land-110m.json'), 'utf8'));
  // Share of coastline vertices inside the grid within one cell of a land (NaN) cell. Small islands
  // are ocean on a 2-degree grid, so not every vertex qualifies; a control shifted by 10 degrees of
  // longitude shows what a misplaced coastline scores.
  const share = (f: typeof frame) => {
    const d = coastlinePath(topo, f, W, H);
    const pts = [...d.matchAll(/(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    let near = 0;
    let inside = 0;
    for (const [x, y] of pts) {
      const c = Math.floor(x / 4);
      const r = Math.floor(y / 4);
      if (r < 0 || r >= 89 || c < 0 || c >= 180) continue;
      inside++;
      let land = false;
      for (let dr = -1; dr <= 1; dr++) for (let dc = -1; dc <= 1; dc++) {
        const rr = r + dr;
        if (rr >= 0 && rr < 89 && Number.isNaN(sst.sst[rr * 180 + ((c + dc + 180) % 180)])) land = true;
      }
      if (land) near++;
    }
    assert.ok(inside > 500, `${inside} coastline vertices inside the grid`);
    return near / inside;
  };
  const aligned = share(frame);
  const shifted = share({ ...frame, lonWest: frame.lonWest + 10 });
  assert.ok(aligned > 0.7 && aligned - shifted > 0.1, `aligned ${aligned.toFixed(3)}, shifted ${shifted.toFixed(3)}`);
});

test('the PNG export has the webview raster colours, the colour bar and hatched land', async () => {
  const sst = await loadSst();
  const anom = sstAnomaly(sst, 71); // December 2015, a strong El Nino
  const { relevance } = nino34Relevance(sst, anom);
  const lim = relevanceLimits(relevance);
  const spec = { width: 180, height: 89, mode: 'relevance' as const, relevance, input: anom, relLimits: lim };
  const topo = JSON.parse(readFileSync(require.resolve('world-atlas/land-110m.json'), 'utf8'));
  const png = await renderPng({
    panels: [{ title: 'Nino-3.4 LRP, Dec 2015', spec }],
    scale: 4,
    colorbar: { limits: lim, label: 'relevance (one-hot init)', kind: 'diverging' },
    geo: { frame: geoFrame(sst)!, topology: topo },
  });
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const cells = cellRaster(spec);
  let best = 0;
  for (let i = 0; i < relevance.length; i++) if (relevance[i] > (relevance[best] || -Infinity)) best = i;
  const r = Math.floor(best / 180);
  const c = best % 180;
  // Centre pixel of that cell (panel at 28,28): same bytes as the cell raster.
  const o = ((28 + r * 4 + 1) * info.width + 28 + c * 4 + 1) * info.channels;
  assert.deepEqual(Array.from(data.subarray(o, o + 3)), Array.from(cells.subarray(best * 4, best * 4 + 3)));
  assert.ok(info.width > 180 * 4 + 56 && info.height === 89 * 4 + 56);
});

test('findings CSV quotes commas, quotes and newlines', () => {
  const csv = findingsToCsv([{
    code: 'LRP101', severity: 'warning', message: 'border band "same", 3 cells\nwide', remedy: 'use valid',
    location: { file: '/m.h5' }, docs: 'docs/findings/LRP101.md', layer: { name: 'conv1', index: 1 }, data: { band: 3 },
  }]);
  const lines = csv.split('\r\n');
  assert.equal(lines[0], 'code,severity,layer,layerIndex,message,remedy,file,docs,data');
  assert.ok(csv.includes('"border band ""same"", 3 cells\nwide"'));
  assert.ok(csv.includes('"{""band"":3}"'));
});

test('PNG export requests are checked before anything is allocated', () => {
  const ok = { title: 't', height: 2, width: 2, limits: { vmin: -1, vmax: 1 }, colorbarLabel: 'R', opacity: 0.5,
    panels: [{ title: 'a', mode: 'relevance' as const, relevance: { shape: [2, 2], dtype: 'float32' as const, base64: Buffer.from(new Float32Array([1, -1, 0, 0.5]).buffer).toString('base64') } }] };
  assert.equal(pngViewOf(ok).panels[0].spec.relevance![3], 0.5);
  assert.throws(() => pngViewOf({ ...ok, panels: [] }), /1 to 4 panels/);
  assert.throws(() => pngViewOf({ ...ok, height: 1e5, width: 1e5 }), /bad map size/);
  assert.throws(() => pngViewOf({ ...ok, limits: { vmin: NaN, vmax: 1 } }), /finite/);
  assert.throws(() => pngViewOf({ ...ok, height: 3 }), /needs 24 bytes/);
});
