/**
 * Export of what the panel shows: a PNG of the current tab (rendered by the server from a PngRequest,
 * or drawn here from the canvases when the server cannot), the relevance as .npy or as CF NetCDF (the
 * server writes it with the data's coordinates), the findings as CSV.
 */
import { on, setStatus } from './dom.js';
import { post } from './host.js';
import { classMeans } from './maps.js';
import { encodeBytes, encodeFloat32, type PanelExplainParams, type PngRequest } from './messages.js';
import { panel, compositeName, sampleIndex } from './state.js';
import { unitsLabel } from './decode.js';
import { limitsFor } from './map-draw.js';
import { TAB } from './views.js';

/** The current tab's maps as a PngRequest, in the same colours and limits as on screen. */
export function pngRequest(): PngRequest | undefined {
  const { main: s, compared, state } = panel;
  if (!s) return undefined;
  const k = sampleIndex(s);
  const enc = (m: Float32Array) => encodeFloat32(m, [s.rel.height, s.rel.width]);
  const base = {
    height: s.rel.height, width: s.rel.width, opacity: state.opacity,
    mask: s.mask ? encodeBytes(s.mask) : undefined, coords: s.geo ? { lat: s.geo.lat, lon: s.geo.lon } : undefined,
    regions: s.geo ? s.result.regions : undefined,
  };
  if (state.tab === TAB.compare && compared) {
    const a = s.rel.maps[k];
    const b = compared.shown.rel.maps[Math.min(k, compared.shown.rel.n - 1)];
    return { ...base, title: 'comparison', limits: limitsFor([a, b]), colorbarLabel: `${unitsLabel(s)}, shared`,
      panels: [{ title: `A: ${compositeName(s)}`, mode: 'relevance', relevance: enc(a) }, { title: `B: ${compared.label}`, mode: 'relevance', relevance: enc(b) }] };
  }
  if (state.tab === TAB.dataset) {
    const means = classMeans(s.rel.maps, s.result.target).slice(0, 4);
    return { ...base, title: 'class-means', limits: limitsFor(means.map((m) => m.map)), colorbarLabel: `mean ${unitsLabel(s)}`,
      panels: means.map((m) => ({ title: `class ${m.cls} (n=${m.count})`, mode: 'relevance' as const, relevance: enc(m.map) })) };
  }
  const rel = s.rel.maps[k];
  const inp = s.inp?.maps[k];
  const overlay = state.view === 'overlay' && inp;
  return { ...base, title: `sample-${s.result.samples[k] ?? k}`, limits: limitsFor([rel], s.mask), colorbarLabel: unitsLabel(s),
    panels: [{ title: `sample ${s.result.samples[k] ?? k}, ${s.result.targetSpec ? `output ${s.result.targetSpec.text}` : `class ${s.result.target[k]}`}, ${compositeName(s)}`, mode: overlay ? 'overlay' : 'relevance', relevance: enc(rel), input: inp ? enc(inp) : undefined }] };
}

/**
 * PNG of the current tab's maps and colour bars as drawn on screen (same colours: the canvases hold the
 * cell rasters of core/render), for when the server cannot render one. Base64 without the data: prefix.
 */
export function viewPng(): string | undefined {
  const tab = document.querySelectorAll('vscode-tab-panel')[panel.state.tab];
  if (!tab || !panel.main) return undefined;
  const canvases = Array.from(tab.querySelectorAll('canvas')).filter((c) => c.getClientRects().length > 0 && c.width > 0 && c.height > 0);
  if (canvases.length === 0) return undefined;
  // The figures' captions (HTML text) are drawn too, so the PNG says what it shows.
  const captions = Array.from(tab.querySelectorAll('figcaption')).filter((c) => c.getClientRects().length > 0 && c.textContent);
  const rects = [...canvases, ...captions].map((c) => c.getBoundingClientRect());
  const left = Math.min(...rects.map((r) => r.left));
  const top = Math.min(...rects.map((r) => r.top));
  const right = Math.max(...rects.map((r) => r.right));
  const bottom = Math.max(...rects.map((r) => r.bottom));
  const scale = Math.max(1, window.devicePixelRatio || 1);
  const pad = 8;
  const out = document.createElement('canvas');
  out.width = Math.ceil((right - left + 2 * pad) * scale);
  out.height = Math.ceil((bottom - top + 2 * pad) * scale);
  const ctx = out.getContext('2d')!;
  // The theme's background behind the maps, so their labels (in the theme's foreground) stay readable.
  ctx.fillStyle = getComputedStyle(document.body).backgroundColor || '#ffffff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.imageSmoothingEnabled = false;
  const at = (r: DOMRect): [number, number] => [(r.left - left + pad) * scale, (r.top - top + pad) * scale];
  canvases.forEach((c, i) => {
    const r = rects[i];
    ctx.drawImage(c, ...at(r), r.width * scale, r.height * scale);
  });
  captions.forEach((c, i) => drawCaption(ctx, c, at(rects[canvases.length + i]), rects[canvases.length + i].width * scale, scale));
  return out.toDataURL('image/png').replace(/^data:image\/png;base64,/, '');
}

/** A caption's text in its own font and colour, wrapped at its width as on screen. */
function drawCaption(ctx: CanvasRenderingContext2D, c: Element, [x, y]: [number, number], maxW: number, scale: number): void {
  const cs = getComputedStyle(c);
  ctx.font = `${cs.fontWeight} ${parseFloat(cs.fontSize) * scale}px ${cs.fontFamily}`;
  ctx.fillStyle = cs.color;
  ctx.textBaseline = 'top';
  const lines: string[] = [];
  for (const word of c.textContent!.trim().split(/\s+/)) {
    const last = lines[lines.length - 1];
    if (last !== undefined && ctx.measureText(`${last} ${word}`).width <= maxW) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  const lh = (parseFloat(cs.lineHeight) || parseFloat(cs.fontSize) * 1.2) * scale;
  lines.forEach((line, j) => ctx.fillText(line, x, y + j * lh));
}

/** The host could not render the PNG: draw it here and send it to be saved. */
export function savePngLocally(name: string): void {
  const base64 = viewPng();
  if (base64) post({ type: 'savePng', name, base64 });
  else setStatus('Nothing to export yet.', true);
}

/**
 * The request that gave the shown result, for the server's NetCDF export: its model, composite, samples
 * and target (a map target as the result names it), and the data form's unsaved draft as explain sent it.
 */
export function shownRequest(): PanelExplainParams | undefined {
  const s = panel.main;
  if (!s) return undefined;
  const r = s.result;
  const form = panel.form;
  const draft = form?.entry && !form.savedTo && form.model === r.model ? form.entry : undefined;
  const target = r.targetSpec?.target ?? panel.state.target;
  return {
    model: r.model,
    composite: r.composite,
    target,
    samples: { ...(r.selection?.data && !draft ? { data: r.selection.data } : {}), indices: r.samples.slice() },
    ...(draft ? { entry: draft } : {}),
  };
}

export function bindExport(): void {
  on('exportPng', 'click', () => {
    const view = pngRequest();
    if (view) post({ type: 'exportPng', view });
    else setStatus('Nothing to export yet.', true);
  });
  on('exportNpy', 'click', () => {
    const s = panel.main;
    if (!s) { setStatus('Nothing to export yet.', true); return; }
    post({ type: 'exportNpy', array: s.result.relevance, name: `relevance-${compositeName(s)}.npy` });
  });
  on('exportNetcdf', 'click', () => {
    const params = shownRequest();
    if (!params) { setStatus('Nothing to export yet.', true); return; }
    setStatus('Writing the NetCDF file (the server explains the shown samples again)…');
    post({ type: 'exportNetcdf', params, name: `relevance-${compositeName(panel.main!)}.nc` });
  });
  on('exportCsv', 'click', () => post({ type: 'exportCsv', findings: panel.findings, name: 'findings.csv' }));
}
