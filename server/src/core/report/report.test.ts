import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { SAMPLES, scratchDir } from '../../testing/paths.js';
import { run } from '../../cli/report.js';
import { areaShare, boxWeights, NINO34, regionShare } from './regions.js';
import { toGrid, type DisplayGrid } from '../session/data-grid.js';

const range = (a: number, b: number, step: number): number[] => Array.from({ length: Math.round((b - a) / step) + 1 }, (_, i) => a + i * step);

test('Nino-3.4 weights cover the box area: 10 x 50 degrees is 20 cells of 5 degrees and 125 cells of 2 degrees', () => {
  // The samples' two grids: 5-degree (lat -55..60 ascending, lon 0..355) and 2-degree (lat 88..-88 descending, lon 0..358).
  const w5 = boxWeights(range(-55, 60, 5), range(0, 355, 5), NINO34);
  const w2 = boxWeights(range(-88, 88, 2).reverse(), range(0, 358, 2), NINO34);
  const sum = (w: Float64Array) => w.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum(w5) - 20) < 1e-9, `5-degree: ${sum(w5)}`);
  assert.ok(Math.abs(sum(w2) - 125) < 1e-9, `2-degree: ${sum(w2)}`);
  // A cell centred on the box edge (lat 5, lon 190 on the 5-degree grid) lies a quarter inside.
  const lat5 = range(-55, 60, 5).indexOf(5);
  assert.equal(w5[lat5 * 72 + 190 / 5], 0.25);
  // West of 170W (lon 185) and south of 5S are outside; -170 and 190 are the same meridian.
  assert.equal(w5[lat5 * 72 + 185 / 5], 0);
  const wNeg = boxWeights([0], [-170, -165], NINO34);
  assert.deepEqual(Array.from(wNeg), [0.5, 1]);
  // A map with all its weight in the box has share 1; an even map has the box's area share.
  const inBox = Float64Array.from(w5, (v) => (v === 1 ? 1 : 0));
  assert.equal(regionShare(inBox, w5), 1);
  assert.ok(Math.abs(regionShare(new Float64Array(w5.length).fill(1), w5) - areaShare(w5)) < 1e-12);
});

test('a wrapped longitude folds back onto the grid: copies add to their originals and the total is kept', () => {
  const g: DisplayGrid = { h: 2, w: 4, lat: [0, 5], lon: [0, 90, 180, 270], inputDims: ['lat', 'lon'], inputShape: [2, 8], channels: 1, wrapLon: 2 };
  // Input columns: [c2 c3 | c0 c1 c2 c3 | c0 c1] per row; value = 10 * row + input column.
  const src = Float64Array.from({ length: 16 }, (_, i) => 10 * Math.floor(i / 8) + (i % 8));
  const folded = toGrid(g, src);
  // Row 0: c0 = input cols 2 and 6; c1 = 3 and 7; c2 = 0 and 4; c3 = 1 and 5.
  assert.deepEqual(Array.from(folded.slice(0, 4)), [8, 10, 4, 6]);
  assert.equal(folded.reduce((a, b) => a + b, 0), src.reduce((a, b) => a + b, 0));
  // Without summing, each cell takes its original (unwrapped) value only.
  assert.deepEqual(Array.from(toGrid(g, src, 1, false).slice(4)), [12, 13, 14, 15]);
});

test('report on a folder writes index.html with one section per model and PNGs that sharp opens, no remote content', { timeout: 300_000 }, async (t) => {
  const models = ['mlp_relu', 'cnn_valid_wrap_avgpool'];
  for (const m of models) if (!existsSync(join(SAMPLES, 'models', m, 'model.json'))) return t.skip(`samples/models/${m} not trained yet (npm run samples)`);
  // A project of two sample models, from a folder the test makes (paths point back into samples/).
  const dir = scratchDir('report-folder');
  const project = JSON.parse(await readFile(join(SAMPLES, 'lrp-lens.json'), 'utf8')) as { models: { name: string; model: string; data: { file: string }; labels: { file: string } }[] };
  project.models = project.models.filter((m) => models.includes(m.name));
  // Relative paths: expandModelPath resolves a glob's folder part against the project folder.
  const rel = (p: string) => relative(dir, join(SAMPLES, p));
  for (const m of project.models) {
    m.model = rel(m.model);
    m.data.file = rel(m.data.file);
    m.labels.file = rel(m.labels.file);
  }
  delete (project as { $schema?: string }).$schema;
  await writeFile(join(dir, 'lrp-lens.json'), JSON.stringify(project));
  const out = join(dir, 'report');
  let text = '';
  const code = await run([dir, '--out', out, '--samples', '4', '--quiet', '--metrics', join(SAMPLES, 'models', 'metrics.json')], (s) => { text += s; });
  assert.equal(code, 0, text);
  assert.match(text, new RegExp(`report: ${join(out, 'index.html').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
  for (const m of models) assert.match(text, new RegExp(`^${m}\\s`, 'm'), `summary row for ${m}`);
  const html = await readFile(join(out, 'index.html'), 'utf8');
  const sections = [...html.matchAll(/<section id="model-([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(sections, models);
  assert.doesNotMatch(html, /<script|<link|<iframe|src="(?:https?:)?\/\//i);
  const imgs = [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1]);
  assert.ok(imgs.length >= 2 * models.length, `${imgs.length} images`);
  for (const src of imgs) {
    const meta = await sharp(join(out, src)).metadata();
    assert.equal(meta.format, 'png', src);
    assert.ok((meta.width ?? 0) > 200 && (meta.height ?? 0) > 100, `${src}: ${meta.width}x${meta.height}`);
  }
  // Finding codes link to their documentation pages.
  for (const href of [...html.matchAll(/<a href="([^"#]+)">LRP\d{3}<\/a>/g)].map((m) => m[1])) assert.match(href, /docs\/findings\/LRP\d{3}\.md$/);
});

test('artifact figure: the lines a check flags are filled, the rest of the band only faintly; south-first grids keep their side', async () => {
  const { renderMapFigure } = await import('./figure.js');
  // A south-to-north grid (row 0 is 20S): "top" in the data array is the south edge, drawn at the bottom.
  const lat = range(-20, 20, 5);
  const lon = range(0, 95, 5);
  const h = lat.length, w = lon.length;
  const values = new Float64Array(h * w).fill(0.5);
  const fig = {
    lat, lon, kind: 'sequential' as const, limits: { vmin: 0, vmax: 1 }, colorbarLabel: 'x', scale: 20,
    panels: [{ title: 't', values, overlays: { band: { rows: 2, cols: 2 }, flagged: [{ side: 'left' as const, lines: [0], label: 'x0.70' }, { side: 'top' as const, lines: [0], label: 'x0.60' }], flaggedStrong: true } }],
  };
  const { data, info } = await sharp(await renderMapFigure(fig)).raw().toBuffer({ resolveWithObject: true });
  const at = (col: number, row: number): number[] => {
    // Cell centre in pixels (LEFT 52, TOP 30 as laid out by figure.ts), rows drawn north up.
    const x = 52 + col * 20 + 10, y = 30 + row * 20 + 10;
    const i = (y * info.width + x) * info.channels;
    return [data[i], data[i + 1], data[i + 2]];
  };
  const pinkness = ([r, g, b]: number[]): number => r + b - 2 * g;
  const mid = Math.floor(h / 2);
  const flaggedWest = pinkness(at(0, mid));
  const bandEast = pinkness(at(w - 1, mid));
  const interior = pinkness(at(w / 2, mid));
  const southEdge = pinkness(at(w / 2, h - 1));
  const northEdge = pinkness(at(w / 2, 0));
  assert.ok(flaggedWest > bandEast + 60, `flagged west column ${flaggedWest} vs unflagged east band ${bandEast}`);
  assert.ok(bandEast > interior, `the faint band still shows: ${bandEast} vs interior ${interior}`);
  assert.ok(southEdge > northEdge + 60, `the data's top (south) row is drawn at the bottom: south ${southEdge}, north ${northEdge}`);
});
