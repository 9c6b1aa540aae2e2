import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { figureLayout, renderMapFigure, type MapFigure } from './figure.js';
import { entryBoxes, NINO34, boxWeights } from './regions.js';
import { geoFrame, regionRects } from '../render/geo.js';
import { loadSst } from '../../testing/sst-fixtures.js';

/** Figure margins (figure.ts LEFT and TOP): the plot's top-left corner in the image. */
const LEFT = 52;
const TOP = 30;

test("the report's figures outline the entry's regions, and Nino-3.4 only where the entry names none", async () => {
  const sst = await loadSst();
  const { lat, lon } = sst;
  assert.deepEqual(entryBoxes({}), [NINO34]);
  assert.deepEqual(entryBoxes({ regions: [] }), [NINO34]);
  // A box in the open South Pacific (no coastline near it), in -180..180 degrees on the 0..358 grid.
  const own = entryBoxes({ regions: [{ name: 'South Pacific', lat: [-40, -20], lon: [-140, -100] }] });
  assert.deepEqual(own, [{ name: 'South Pacific', south: -40, north: -20, west: -140, east: -100 }]);
  // The report's region weights see the same cells in either longitude convention.
  assert.deepEqual(boxWeights(lat, lon, own[0]), boxWeights(lat, lon, { ...own[0], west: 220, east: 260 }));

  const values = new Float32Array(lat.length * lon.length); // all 0: white cells, so the outline is all that is dark
  const fig: MapFigure = { lat, lon, kind: 'diverging', limits: { vmin: -1, vmax: 1 }, colorbarLabel: 'relevance', panels: [{ title: 't', values, overlays: { boxes: own } }] };
  const L = figureLayout(fig);
  const { data, info } = await sharp(await renderMapFigure(fig)).raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number) => {
    const o = (Math.round(y) * info.width + Math.round(x)) * info.channels;
    return [data[o], data[o + 1], data[o + 2]];
  };
  const dark = (c: number[]) => c.every((v) => v < 80);
  // Some pixel of the 7 across a line at (x, y) is dark (the black under the white of an outline).
  const darkNear = (x: number, y: number, across: 'x' | 'y') => [-3, -2, -1, 0, 1, 2, 3].some((d) => dark(across === 'x' ? at(x + d, y) : at(x, y + d)));
  const frame = geoFrame({ lat, lon })!;
  const rect = (b: typeof own[0]) => regionRects(frame, { name: b.name, lat: [b.south, b.north], lon: [b.west, b.east] }, L.panelW, L.panelH);
  const [q] = rect(own[0]);
  const midY = TOP + (q.y0 + q.y1) / 2;
  const midX = LEFT + (q.x0 + q.x1) / 2;
  // The outline on each edge (black under white), white cells in the middle and a few cells outside.
  for (const [x, y, across] of [[LEFT + q.x0, midY, 'x'], [LEFT + q.x1, midY, 'x'], [midX, TOP + q.y0, 'y'], [midX, TOP + q.y1, 'y']] as const) {
    assert.ok(darkNear(x, y, across), `outline at (${x}, ${y})`);
    assert.ok(!darkNear(across === 'x' ? x - 8 : x, across === 'y' ? y - 8 : y, across), `nothing dark 8 px off the edge at (${x}, ${y})`);
  }
  assert.deepEqual(at(midX, midY), [255, 255, 255]);
  // No Nino-3.4 box where the entry names its own regions.
  const [n] = rect(NINO34);
  assert.ok(!darkNear(LEFT + n.x0, TOP + (n.y0 + n.y1) / 2, 'x'), 'no Nino-3.4 outline');
  // With the default, there is.
  const def = await sharp(await renderMapFigure({ ...fig, panels: [{ title: 't', values, overlays: { boxes: entryBoxes({}) } }] })).raw().toBuffer();
  const y = Math.round(TOP + (n.y0 + n.y1) / 2);
  const hit = [-3, -2, -1, 0, 1, 2, 3].some((d) => {
    const o = (y * info.width + Math.round(LEFT + n.x0) + d) * info.channels;
    return def[o] < 80 && def[o + 1] < 80 && def[o + 2] < 80;
  });
  assert.ok(hit, 'Nino-3.4 outlined by default');
});
