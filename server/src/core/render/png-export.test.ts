import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { relevanceLimits } from './colormap.js';
import { colorbarLayer, labelLines, textWidth, type TextBox } from './colorbar-layer.js';
import { colorbarPlacement, pngLayout, renderPng, type PngView } from './png.js';
import { loadReference, loadSst } from '../../testing/sst-fixtures.js';
import { pngViewOf, renderPngRequest } from './png-request.js';
import { geoFrame, regionRects } from './geo.js';
import type { PngRequest } from './png-view.js';

/** A real relevance map of the Zennit reference CNN (16 x 32), or its first `rows` rows. */
function view(label: string, rows = 16): PngView {
  const ref = loadReference();
  const w = ref.width;
  const rel = ref.relevance['epsilon_1e-6'].slice(0, rows * w);
  return {
    panels: [{ title: 'sample 0', spec: { width: w, height: rows, mode: 'relevance', relevance: rel, relLimits: relevanceLimits(rel) } }],
    colorbar: { limits: relevanceLimits(rel), label, kind: 'diverging' },
  };
}

async function rgba(v: PngView): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(await renderPng(v)).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 4);
  return { data, width: info.width, height: info.height };
}

/**
 * Bounding box of the pixels that differ between two renders of the same width (what the label drew);
 * rows the shorter one lacks count as white, its background.
 */
function diffBox(a: Buffer, b: Buffer, width: number): TextBox | undefined {
  let box: TextBox | undefined;
  for (let i = 0; i < a.length; i += 4) {
    const [r, g, bl] = i < b.length ? [b[i], b[i + 1], b[i + 2]] : [255, 255, 255];
    if (Math.abs(a[i] - r) + Math.abs(a[i + 1] - g) + Math.abs(a[i + 2] - bl) < 24) continue;
    const x = (i / 4) % width;
    const y = Math.floor(i / 4 / width);
    box = box ? { x0: Math.min(box.x0, x), y0: Math.min(box.y0, y), x1: Math.max(box.x1, x + 1), y1: Math.max(box.y1, y + 1) } : { x0: x, y0: y, x1: x + 1, y1: y + 1 };
  }
  return box;
}

const LABELS = [
  'relevance',
  'input anomaly (degC)',
  'relevance (one-hot init: Σ R ≈ 1), shared',
  'mean relevance (output init: Σ R ≈ model output) of 4 classes, kg m-2 s-1',
];

test("the exported PNG keeps its colour bar's label whole, inside the image, on tall and short maps", async () => {
  for (const rows of [16, 3]) {
    for (const label of LABELS) {
      const v = view(label, rows);
      const L = pngLayout(v);
      const drawn = await rgba(v);
      // The same view with an empty label: every pixel that differs is the label's.
      const blank = await rgba({ ...v, colorbar: { ...v.colorbar!, label: '' } });
      assert.equal(blank.width, drawn.width, 'the label does not move anything else');
      const ink = diffBox(drawn.data, blank.data, drawn.width)!;
      const what = `'${label}' beside a ${rows}-row map (${drawn.width}x${drawn.height} px)`;
      assert.ok(ink, `${what}: nothing drawn`);
      // The label's text lies inside the image, clear of its edges ...
      assert.ok(ink.x0 >= 1 && ink.y0 >= 1 && ink.x1 <= drawn.width - 1 && ink.y1 <= drawn.height - 1, `${what}: label at ${JSON.stringify(ink)}`);
      // ... within the box the layout reserved for it (so the layout's estimate is never short) ...
      const box = colorbarLayer(colorbarPlacement(v, L)!).labelBox;
      assert.ok(box.x0 >= 0 && box.y0 >= 0 && box.x1 <= drawn.width && box.y1 <= drawn.height, `${what}: reserved ${JSON.stringify(box)}`);
      assert.ok(ink.x0 >= Math.floor(box.x0) && ink.y0 >= Math.floor(box.y0) && ink.x1 <= Math.ceil(box.x1) && ink.y1 <= Math.ceil(box.y1), `${what}: drawn ${JSON.stringify(ink)} outside reserved ${JSON.stringify(box)}`);
      // ... and whole: as long as the estimate of its text says, not cut or ellipsized.
      const lines = labelLines(label, 11, L.panelH);
      const longest = Math.max(...lines.map((l) => textWidth(l, 11)));
      assert.ok(ink.y1 - ink.y0 >= 0.75 * longest, `${what}: ${ink.y1 - ink.y0} px drawn of about ${longest}`);
    }
  }
  // A long label beside a 3-row map: in two lines, and the image grows to hold the longer one.
  const short = view(LABELS[3], 3);
  const L = pngLayout(short);
  assert.equal(labelLines(LABELS[3], 11, L.panelH).length, 2);
  assert.ok(L.height > 28 * 2 + L.panelH, `image ${L.height} px tall for a ${L.panelH} px map`);
  // A label that fits stays one line and the image keeps its size.
  const tall = view('relevance', 16);
  assert.equal(pngLayout(tall).height, 28 * 2 + pngLayout(tall).panelH);
});

test('the exported PNG outlines the regions the panel sends, where the map has coordinates', async () => {
  const sst = await loadSst();
  const [h, w] = [sst.lat.length, sst.lon.length];
  const zeros = Buffer.from(new Float32Array(h * w).buffer).toString('base64');
  const req: PngRequest = {
    title: 't', height: h, width: w, opacity: 0.6, limits: { vmin: -1, vmax: 1 }, colorbarLabel: 'relevance',
    coords: { lat: sst.lat, lon: sst.lon },
    panels: [{ title: 'sample', mode: 'relevance', relevance: { shape: [h, w], dtype: 'float32', base64: zeros } }],
  };
  const nino = { name: 'Nino-3.4', lat: [-5, 5] as [number, number], lon: [190, 240] as [number, number] };
  const raw = async (r: PngRequest) => (await sharp(await renderPngRequest(r)).raw().toBuffer({ resolveWithObject: true }));
  const a = await raw({ ...req, regions: [nino] });
  const b = await raw(req);
  assert.deepEqual([a.info.width, a.info.height], [b.info.width, b.info.height]);
  const ink = diffBox(a.data, b.data, a.info.width)!;
  // What the regions added lies on the box's outline as geo.ts places it (the name just above it), plot at (28, 28).
  const L = pngLayout({ panels: [{ title: '', spec: { width: w, height: h, mode: 'relevance', relevance: new Float32Array(h * w) } }] });
  const [q] = regionRects(geoFrame(req.coords!)!, nino, L.panelW, L.panelH);
  assert.ok(Math.abs(ink.x0 - (28 + q.x0)) <= 3 && Math.abs(ink.x1 - (28 + q.x1)) <= 3, `outline x ${ink.x0}..${ink.x1}, box ${28 + q.x0}..${28 + q.x1}`);
  assert.ok(Math.abs(ink.y1 - (28 + q.y1)) <= 3 && ink.y0 < 28 + q.y0 && ink.y0 > 28 + q.y0 - 20, `outline y ${ink.y0}..${ink.y1}, box ${28 + q.y0}..${28 + q.y1}`);
  // Malformed regions from the webview are refused before rendering.
  assert.throws(() => pngViewOf({ ...req, regions: [{ name: 'x', lat: [5, -5], lon: [0, 1] }] }), /regions must be/);
  assert.throws(() => pngViewOf({ ...req, regions: 'Nino' as never }), /regions must be/);
});
