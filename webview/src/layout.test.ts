import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MARGIN, axisTicks, boxesIntersect, estimateWidth, maxPlotHeight, plotSize, sideBySide, xLabelBox, yLabelBox,
  type AxisSpec, type LabelBox, type PlotSize,
} from './layout.js';
import { inputLabel, inputScale } from './maps.js';
import { geoFrame, regionRects } from '../../server/src/core/render/geo.js';
import { cellRaster } from '../../server/src/core/render/raster.js';
import { DIVERGING, LUT_MAX, colorOf } from '../../server/src/core/render/colormap.js';
import { boxWeights, NINO34 } from '../../server/src/core/report/regions.js';
import { loadSst, sstAnomaly } from '../../server/src/testing/sst-fixtures.js';

/** The ERSSTv5 2-degree grid's coordinates (89 x 180, north to south, 0..358 E), as the file has them. */
const sst = await loadSst();
const frame2deg = geoFrame({ lat: sst.lat, lon: sst.lon })!;

/** Every labelled tick's box on a canvas of a plot this size: none may overlap another or leave the canvas. */
function assertLabelsClear(spec: AxisSpec, plot: PlotSize, what: string): { x: number; y: number } {
  const t = axisTicks(spec, plot);
  const boxes: LabelBox[] = [...t.x.map((k) => xLabelBox(k, plot, estimateWidth)), ...t.y.map((k) => yLabelBox(k, plot, estimateWidth))];
  const canvas = { w: MARGIN.left + plot.w + MARGIN.right, h: MARGIN.top + plot.h + MARGIN.bottom };
  for (const [i, a] of boxes.entries()) {
    assert.ok(a.x0 >= 0 && a.y0 >= 0 && a.x1 <= canvas.w && a.y1 <= canvas.h, `${what}: label box ${JSON.stringify(a)} outside the ${canvas.w}x${canvas.h} canvas`);
    for (const b of boxes.slice(i + 1)) assert.ok(!boxesIntersect(a, b), `${what}: labels overlap: ${JSON.stringify(a)} and ${JSON.stringify(b)}`);
  }
  return { x: t.x.length, y: t.y.length };
}

test('tick labels never overlap and stay on the canvas, at every panel width from 200 to 1600 px', () => {
  const grids: [string, AxisSpec, number][] = [
    ['89x180 lat/lon', { width: 180, height: 89, geo: frame2deg }, (89 * 2) / (180 * 2)],
    ['16x32 cells', { width: 32, height: 16 }, 16 / 32],
    ['720x1440 cells', { width: 1440, height: 720, flipRows: true }, 0.5],
    ['3x500 cells', { width: 500, height: 3 }, 3 / 500],
  ];
  for (const [name, spec, aspect] of grids) {
    const counts: number[] = [];
    for (let width = 200; width <= 1600; width += 25) {
      const plot = plotSize(width, aspect, maxPlotHeight(900));
      const n = assertLabelsClear(spec, plot, `${name} at ${width} px`);
      // Thinning keeps labels: at least two along x, and two down y wherever the plot is tall enough for two.
      assert.ok(n.x >= 2, `${name} at ${width} px: ${n.x} x labels`);
      if (plot.h >= 2 * 13 + 6) assert.ok(n.y >= 2, `${name} at ${width} px: ${n.y} y labels on a ${plot.h} px plot`);
      counts.push(n.x);
    }
    // A wider panel shows more longitudes (or columns), not the same few spread out.
    assert.ok(counts[counts.length - 1] > counts[0], `${name}: ${counts[0]} labels at 200 px, ${counts[counts.length - 1]} at 1600 px`);
  }
  // The labels are the grid's own degrees: 0°, 60°E, ... on the 2-degree grid at 600 px.
  const t = axisTicks({ width: 180, height: 89, geo: frame2deg }, plotSize(600, 89 / 180, 10_000));
  assert.ok(t.x.some((k) => k.label === '180°') && t.y.some((k) => k.label === '0°'), JSON.stringify(t));
});

test('a global map scales to the panel width with its aspect kept; narrow panels stack the maps', () => {
  const aspect = 89 / 180; // 2-degree cells: a degree of lat as long as one of lon
  for (const width of [300, 640, 900, 1200]) {
    const p = plotSize(width, aspect, 10_000);
    assert.equal(p.w, width - MARGIN.left - MARGIN.right, `${width} px: the plot takes the box's width`);
    assert.ok(Math.abs(p.h / p.w - aspect) < 1 / p.w + 1e-9, `${width} px: aspect ${p.h / p.w} vs ${aspect}`);
  }
  // Capped by the panel's height: then the height is the cap and the width follows the aspect.
  const capped = plotSize(1600, aspect, maxPlotHeight(700));
  assert.equal(capped.h, 480);
  assert.equal(capped.w, Math.round(480 / aspect));
  // Beside an editor (a 640 px panel) two maps with their colour bars would be about 150 px each: they stack,
  // and each then gets the panel's width less its colour bar, over three times as wide.
  assert.equal(sideBySide(640, 2, 2), false);
  const stacked = plotSize(640 - 24 - 114, aspect, maxPlotHeight(900));
  assert.ok(stacked.w > 3 * 140, `stacked plot ${stacked.w} px`);
  // A wide panel keeps them side by side, and one map alone never stacks.
  assert.equal(sideBySide(1280, 2, 2), true);
  assert.equal(sideBySide(400, 1, 1), true);
  // Sequences keep the full width and clamp the height.
  assert.deepEqual(plotSize(800, 1 / 100, 600, [96, 320]), { w: 800 - 54, h: 96 });
});

test('an anomaly field is drawn diverging: limits symmetric around 0, white at 0, with its units', () => {
  const anom = sstAnomaly(sst, 83); // December 2016, NaN on land
  const land = new Uint8Array(anom.length).map((_, i) => (Number.isNaN(anom[i]) ? 1 : 0));
  const sc = inputScale(anom, land, true);
  assert.equal(sc.kind, 'diverging');
  let m = 0;
  let lo = Infinity;
  for (const v of anom) if (Number.isFinite(v)) { m = Math.max(m, Math.abs(v)); lo = Math.min(lo, v); }
  assert.equal(sc.limits.vmax, m);
  assert.equal(sc.limits.vmin, -m);
  assert.ok(lo > -m || lo === -m, 'the colder end is within the limits');
  // Without the flag the same field is sequential from its minimum to its maximum (not centred on 0).
  const seq = inputScale(anom, land, false);
  assert.equal(seq.kind, 'sequential');
  assert.equal(seq.limits.vmin, lo);
  // Drawn: 0 is white, +-m the ends of the diverging map, as on the relevance maps.
  const px = cellRaster({ width: 3, height: 1, mode: 'input', input: Float32Array.from([0, m, -m]), inLimits: sc.limits, inputColormap: 'diverging' });
  assert.deepEqual(Array.from(px.subarray(0, 3)), [255, 255, 255]);
  assert.deepEqual(Array.from(px.subarray(4, 7)), colorOf(DIVERGING, LUT_MAX));
  assert.deepEqual(Array.from(px.subarray(8, 11)), colorOf(DIVERGING, 0));
  assert.equal(inputLabel('degC', true), 'input anomaly (degC)');
  assert.equal(inputLabel(undefined, false), 'input');
});

test("a region's outline on the 2-degree grid covers exactly the cells the report's regions.ts weights", () => {
  const w = sst.lon.length * 4;
  const h = sst.lat.length * 4; // 4 px a cell: cell edges are whole pixels
  const rects = regionRects(frame2deg, { name: 'Nino-3.4', lat: [-5, 5], lon: [190, 240] }, w, h);
  assert.equal(rects.length, 1);
  const weights = boxWeights(sst.lat, sst.lon, NINO34);
  let inside = 0;
  for (let r = 0; r < sst.lat.length; r++) {
    for (let c = 0; c < sst.lon.length; c++) {
      const cell = { x0: c * 4, y0: r * 4, x1: c * 4 + 4, y1: r * 4 + 4 }; // north up: row 0 is 88N
      const overlaps = rects.some((b) => boxesIntersect(b, cell));
      const wgt = weights[r * sst.lon.length + c];
      assert.equal(overlaps, wgt > 0, `cell (${r}, ${c}) at ${sst.lat[r]}N ${sst.lon[c]}E: weight ${wgt}, outline ${overlaps ? 'covers' : 'misses'} it`);
      if (wgt > 0) inside++;
    }
  }
  assert.ok(inside > 40, `${inside} cells inside Nino-3.4`);
  // The same box in -180..180 degrees, and a box across the grid's seam (drawn in two pieces).
  assert.deepEqual(regionRects(frame2deg, { name: 'x', lat: [-5, 5], lon: [-170, -120] }, w, h), rects);
  const seam = regionRects(frame2deg, { name: 'Greenwich', lat: [40, 60], lon: [-10, 10] }, w, h);
  assert.equal(seam.length, 2);
  assert.ok(seam.some((b) => b.x0 === 0) && seam.some((b) => b.x1 === w), JSON.stringify(seam));
});
