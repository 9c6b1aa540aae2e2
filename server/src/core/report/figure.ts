/**
 * Map figures for the report: one or more lat x lon panels on a shared colour scale, with coastlines
 * (world-atlas 110m land, projected by the render module's d3-geo equirectangular path), lat/lon axes
 * from the data's coordinates, a colour bar, and the artifact overlays (border band, stride phase grid,
 * a region box; masked cells hatched). Colours and hatching come from render/raster.ts, the code the
 * panel draws with; sharp composites the rasters and one SVG layer of lines and text.
 */
import sharp, { type OverlayOptions } from 'sharp';
import { type Limits } from '../render/colormap.js';
import { cellRaster, upscale } from '../render/raster.js';
import { coastlinePath, degreeTicks, formatLat, formatLon, geoFrame, latToY, regionRects, type GeoFrame } from '../render/geo.js';
import { escapeXml as esc } from '../render/escape.js';
import { landTopology } from '../render/land.js';
import { colorbarLayer, labelLength } from '../render/colorbar-layer.js';
import { regionOf, type LatLonBox } from './regions.js';

export interface Overlays {
  /** Border band in cells from the input's edges: rows at top and bottom, columns left and right (0: none). */
  band?: { rows: number; cols: number };
  /** Lines of the band a check flagged (LRP202), per side of the data array, with a label (the factor). */
  flagged?: { side: 'top' | 'bottom' | 'left' | 'right'; lines: number[]; label: string }[];
  /** A warning (filled) rather than information (tinted). */
  flaggedStrong?: boolean;
  /** Stride phase grid: a line every `period` cells, counted from the input's first cell; `colOffset` is where data column 0 sits in the input (the wrap). */
  stride?: { period: number; colOffset: number };
  /** Named boxes (the entry's regions, else Nino-3.4), outlined with their names. */
  boxes?: LatLonBox[];
}

export interface MapPanel {
  title: string;
  /** Row-major h*w in the coordinates' order. */
  values: ArrayLike<number>;
  /** 1 = masked (hatched). */
  masked?: Uint8Array;
  overlays?: Overlays;
}

export interface MapFigure {
  lat: number[];
  lon: number[];
  panels: MapPanel[];
  kind: 'diverging' | 'sequential';
  limits: Limits;
  colorbarLabel: string;
  /** Pixels per cell (default: about 720 pixels of width per panel). */
  scale?: number;
}

const LEFT = 52;
const TOP = 30;
const BOTTOM = 34;
const GAP = 60;
const BAR_GAP = 22;
const BAR_W = 16;
const BAR_TEXT = 92;
const FONT = 'font-family="DejaVu Sans, sans-serif"';
const BAND = '#ff2bd6';

/** Pixel y of the boundary above data row k (k = 0..h), honouring a south-to-north grid drawn north up. */
function rowEdgeY(k: number, h: number, s: number, flip: boolean): number {
  return (flip ? h - k : k) * s;
}

function overlaySvg(o: Overlays, f: GeoFrame, w: number, h: number, s: number): string {
  const W = w * s;
  const H = h * s;
  const out: string[] = [];
  if (o.band && (o.band.rows > 0 || o.band.cols > 0)) {
    const r = Math.min(o.band.rows, h / 2) * s;
    const c = Math.min(o.band.cols, w / 2) * s;
    // Where padding can act: the frame minus the interior (even-odd), faintly filled, with a dashed inner edge.
    out.push(`<path d="M0,0H${W}V${H}H0Z M${c},${r}V${H - r}H${W - c}V${r}Z" fill="${BAND}" fill-opacity="0.1" fill-rule="evenodd"/>`);
    out.push(`<rect x="${c}" y="${r}" width="${W - 2 * c}" height="${H - 2 * r}" fill="none" stroke="${BAND}" stroke-width="1.5" stroke-dasharray="7 4"/>`);
  }
  for (const fl of o.flagged ?? []) {
    // What the check flagged: those lines filled (tinted when only information), the factor written beside them.
    const rows = fl.side === 'top' || fl.side === 'bottom';
    const rects = fl.lines.map((d) => {
      if (rows) {
        const y = fl.side === 'top' ? d : h - 1 - d;
        return { x: 0, y: Math.min(rowEdgeY(y, h, s, f.flipRows), rowEdgeY(y + 1, h, s, f.flipRows)), w: W, h: s };
      }
      const x = fl.side === 'left' ? d : w - 1 - d;
      return { x: x * s, y: 0, w: s, h: H };
    });
    const opacity = o.flaggedStrong === false ? 0.2 : 0.55;
    for (const q of rects) out.push(`<rect x="${q.x}" y="${q.y}" width="${q.w}" height="${q.h}" fill="${BAND}" fill-opacity="${opacity}"/>`);
    if (!rects.length) continue;
    const q = rects[0];
    const at = rows ? `x="${W / 2}" y="${q.y + q.h / 2 + 4}" text-anchor="middle"` : `x="${fl.side === 'left' ? q.x + q.w + 3 : q.x - 3}" y="${H / 2}" text-anchor="${fl.side === 'left' ? 'start' : 'end'}"`;
    out.push(`<text ${at} ${FONT} font-size="11" font-weight="bold" fill="#000" stroke="#fff" stroke-width="2.5" paint-order="stroke">${esc(fl.label)}</text>`);
  }
  if (o.stride && o.stride.period > 1) {
    const p = o.stride.period;
    const flip = f.flipRows;
    const lines: string[] = [];
    for (let col = 0; col <= w; col++) if ((((col + o.stride.colOffset) % p) + p) % p === 0) lines.push(`M${col * s},0V${H}`);
    for (let row = 0; row <= h; row += p) lines.push(`M0,${rowEdgeY(row, h, s, flip)}H${W}`);
    // Dark and light lines side by side, so the grid reads on dark and bright cells alike.
    out.push(`<path d="${lines.join('')}" stroke="#000" stroke-opacity="0.45" stroke-width="1" fill="none"/>`);
    out.push(`<path d="${lines.join('')}" stroke="#fff" stroke-opacity="0.55" stroke-width="1" fill="none" transform="translate(1,1)"/>`);
  }
  for (const box of o.boxes ?? []) {
    // The same rectangles as the panel's outline (one or two: a box across the grid's seam is cut in two).
    const rects = regionRects(f, regionOf(box), W, H);
    for (const q of rects) {
      const rect = `x="${q.x0.toFixed(1)}" y="${q.y0.toFixed(1)}" width="${(q.x1 - q.x0).toFixed(1)}" height="${(q.y1 - q.y0).toFixed(1)}" fill="none"`;
      // Black under white: visible on the diverging and the sequential colours.
      out.push(`<rect ${rect} stroke="#000" stroke-width="3.5"/><rect ${rect} stroke="#fff" stroke-width="1.5"/>`);
    }
    const q = rects[0];
    if (!q) continue;
    // The name above the box, or inside its top edge when the box touches the top of the map.
    const ty = q.y0 >= 15 ? q.y0 - 4 : q.y0 + 13;
    out.push(`<text x="${(q.x0 + 2).toFixed(1)}" y="${ty.toFixed(1)}" ${FONT} font-size="11" font-weight="bold" fill="#000" stroke="#fff" stroke-width="2.5" paint-order="stroke">${esc(box.name)}</text>`);
  }
  return out.join('');
}

function axesSvg(f: GeoFrame, W: number, H: number): string {
  const out: string[] = [];
  const south = f.latNorth - f.dLat * f.nLat;
  for (const lat of degreeTicks(south, f.latNorth, 6)) {
    const y = latToY(f, lat, H);
    out.push(`<line x1="-4" x2="0" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#333"/>`);
    out.push(`<text x="-6" y="${(y + 4).toFixed(1)}" text-anchor="end" ${FONT} font-size="10" fill="#333">${formatLat(lat)}</text>`);
  }
  const west = f.lonWest;
  const east = f.lonWest + f.dLon * f.nLon;
  for (const lon of degreeTicks(west, east, 8)) {
    const x = ((lon - west) / (east - west)) * W;
    out.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${H}" y2="${H + 4}" stroke="#333"/>`);
    out.push(`<text x="${x.toFixed(1)}" y="${H + 15}" text-anchor="middle" ${FONT} font-size="10" fill="#333">${formatLon(lon)}</text>`);
  }
  return out.join('');
}

/** Size of a figure in pixels. */
export function figureLayout(fig: MapFigure): { scale: number; width: number; height: number; panelW: number; panelH: number } {
  const w = fig.lon.length;
  const h = fig.lat.length;
  const scale = fig.scale ?? Math.max(1, Math.floor(720 / w));
  const panelW = w * scale;
  const panelH = h * scale;
  const n = fig.panels.length;
  // Tall enough for the colour bar's whole label beside a short map.
  const height = Math.max(TOP + panelH + BOTTOM, Math.ceil(labelLength(fig.colorbarLabel, 10, panelH) + 8));
  return { scale, panelW, panelH, width: LEFT + n * panelW + (n - 1) * GAP + BAR_GAP + BAR_W + BAR_TEXT, height };
}

export async function renderMapFigure(fig: MapFigure): Promise<Buffer> {
  const w = fig.lon.length;
  const h = fig.lat.length;
  const frame = geoFrame({ lat: fig.lat, lon: fig.lon });
  if (!frame) throw new Error('the report draws regular lat/lon grids only');
  const L = figureLayout(fig);
  const s = L.scale;
  const composites: OverlayOptions[] = [];
  const svg: string[] = [];
  const coast = coastlinePath(landTopology(), frame, L.panelW, L.panelH);
  fig.panels.forEach((p, k) => {
    if (p.values.length !== w * h) throw new Error(`panel '${p.title}' has ${p.values.length} values for a ${h}x${w} grid`);
    const values = Float32Array.from(p.values as ArrayLike<number>);
    const cells = cellRaster(
      fig.kind === 'diverging'
        ? { width: w, height: h, mode: 'relevance', relevance: values, relLimits: fig.limits, flipRows: frame.flipRows }
        : { width: w, height: h, mode: 'input', input: values, inLimits: fig.limits, flipRows: frame.flipRows },
    );
    const px = upscale(cells, w, h, s, s, p.masked, frame.flipRows);
    const left = LEFT + k * (L.panelW + GAP);
    composites.push({ input: Buffer.from(px.buffer, px.byteOffset, px.byteLength), raw: { width: L.panelW, height: L.panelH, channels: 4 }, left, top: TOP });
    svg.push(`<text x="${left}" y="${TOP - 9}" ${FONT} font-size="13" fill="#222">${esc(p.title)}</text>`);
    svg.push(`<g transform="translate(${left},${TOP})">`);
    // Lines stay inside the map (coastlines run past a grid that does not span the globe).
    svg.push(`<g clip-path="url(#plot)"><path d="${coast}" fill="none" stroke="#111" stroke-width="0.9"/>`);
    if (p.overlays) svg.push(overlaySvg(p.overlays, frame, w, h, s));
    svg.push('</g>');
    svg.push(`<rect x="-0.5" y="-0.5" width="${L.panelW + 1}" height="${L.panelH + 1}" fill="none" stroke="#555"/>`);
    svg.push(axesSvg(frame, L.panelW, L.panelH));
    svg.push('</g>');
  });
  const bx = LEFT + fig.panels.length * L.panelW + (fig.panels.length - 1) * GAP + BAR_GAP;
  const layer = colorbarLayer({ kind: fig.kind, limits: fig.limits, label: fig.colorbarLabel, left: bx, top: TOP, width: BAR_W, height: L.panelH, textWidth: BAR_TEXT, labelInset: 10, fontSize: 10, imageHeight: L.height });
  composites.push(layer.composite);
  svg.push(...layer.svg);
  const defs = `<defs><clipPath id="plot"><rect x="0" y="0" width="${L.panelW}" height="${L.panelH}"/></clipPath></defs>`;
  composites.push({ input: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${L.width}" height="${L.height}">${defs}${svg.join('')}</svg>`), left: 0, top: 0 });
  return sharp({ create: { width: L.width, height: L.height, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 1 } } })
    .composite(composites)
    .png({ compressionLevel: 9 })
    .toBuffer();
}
