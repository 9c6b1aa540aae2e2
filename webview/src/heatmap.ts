/**
 * One map on a canvas: the cell raster from core/render (one ImageData pixel per cell, scaled by
 * drawImage, so a 720x1440 map costs one image, not a million elements), hatching of masked cells,
 * coastlines and degree axes in geographic mode, artifact overlays and a keyboard/mouse cursor.
 */
import { cellRaster, effectiveMask, hatchTile, type RasterSpec } from '../../server/src/core/render/raster.js';
import { HATCH_PERIOD, formatValue } from '../../server/src/core/render/colormap.js';
import { timed } from './timing.js';
import { coastlinePath, formatLat, formatLon, regionRects, type GeoFrame, type RegionBox } from '../../server/src/core/render/geo.js';
import { MARGIN as M, FONT_PX, axisTicks, maxPlotHeight, plotSize } from './layout.js';

export interface MapOverlays {
  /** Border band width in cells (drawn when set). */
  band?: number;
  /** Stride phase grid: a line every `stride` cells from `phase` (drawn when set). */
  stride?: number;
  phase?: number;
  /** Hatch masked cells. */
  hatch: boolean;
}

export interface MapDraw {
  spec: RasterSpec;
  overlays: MapOverlays;
  geo?: { frame: GeoFrame; topology: unknown; lat: number[]; lon: number[] };
  /**
   * Sequences: the plot takes the full width and its height is clamped to [min, max] CSS px, so cells
   * need not be square (a long sequence of a few features stays readable, a tall one stays short).
   */
  heightRange?: [number, number];
  /** What rows and columns are, for the readout (default: row and col). */
  axes?: AxisNames;
  /** Named lat/lon boxes (lrp-lens.json regions), outlined with their names in geographic mode. */
  regions?: RegionBox[];
}

export interface AxisNames {
  row: string;
  col: string;
}

export interface CellInfo {
  row: number;
  col: number;
  lat?: number;
  lon?: number;
  input?: number;
  relevance?: number;
  axes?: AxisNames;
}

const coastCache = new Map<string, Path2D>();

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

export class MapCanvas {
  readonly canvas: HTMLCanvasElement;
  private d?: MapDraw;
  private cellsCanvas?: HTMLCanvasElement;
  /** Overlay mode: the relevance layer drawn over the grey input with globalAlpha. */
  private topCanvas?: HTMLCanvasElement;
  private hatchLayer?: HTMLCanvasElement;
  private maskCanvas?: HTMLCanvasElement;
  private mask?: Uint8Array;
  private coast?: { key: string; path: Path2D };
  private plot = { x: M.left, y: M.top, w: 1, h: 1 };
  cursor?: [number, number];
  onCell?: (info: CellInfo | undefined) => void;
  /** Called when the drawn height changes (colour bars follow the map's height). */
  onLayout?: (cssHeight: number) => void;
  private lastHeight = -1;

  /** maxHeight: the tallest the plot may be (CSS px); default: the panel's height less the controls above. */
  constructor(parent: HTMLElement, label: string, private readonly maxHeight?: number) {
    this.canvas = document.createElement('canvas');
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', label);
    this.canvas.tabIndex = 0;
    this.canvas.className = 'map';
    parent.appendChild(this.canvas);
    this.canvas.addEventListener('mousemove', (e) => this.hover(e));
    this.canvas.addEventListener('mouseleave', () => { this.cursor = undefined; this.redraw(); this.onCell?.(undefined); });
    this.canvas.addEventListener('keydown', (e) => this.key(e));
    this.canvas.addEventListener('focus', () => { if (!this.cursor && this.d) this.moveTo(Math.floor(this.d.spec.height / 2), Math.floor(this.d.spec.width / 2)); });
    // Lay out again when the box changes width (window resize, a tab shown, a neighbour hidden).
    let lastWidth = -1;
    new ResizeObserver(() => {
      const w = parent.clientWidth;
      if (w !== lastWidth && w > 0) { lastWidth = w; this.redraw(); }
    }).observe(parent);
    // The plot's height cap follows the panel's height, which the box's width does not show.
    let lastHeight = window.innerHeight;
    window.addEventListener('resize', () => {
      if (window.innerHeight === lastHeight || this.maxHeight !== undefined || parent.clientWidth === 0) return;
      lastHeight = window.innerHeight;
      this.redraw();
    });
  }

  /** New data: rebuild the cell raster (the expensive part) and draw. */
  set(d: MapDraw): void {
    this.d = d;
    const { width: w, height: h } = d.spec;
    if (d.spec.mode === 'overlay') {
      // Two layers, blended by the canvas with globalAlpha = opacity: the same blend as cellRaster's
      // overlay mode (and the PNG export), and moving the opacity slider only redraws.
      const base = timed('set.cellRaster', () => cellRaster({ ...d.spec, mode: 'input', inputColormap: 'grey' }));
      const top = timed('set.cellRaster', () => cellRaster({ ...d.spec, mode: 'relevance' }));
      const rel = d.spec.relevance!;
      for (let r = 0; r < h; r++) {
        const dr = d.spec.flipRows ? h - 1 - r : r;
        for (let c = 0; c < w; c++) if (Number.isNaN(rel[r * w + c])) top[(dr * w + c) * 4 + 3] = 0; // no relevance: input only
      }
      this.cellsCanvas = timed('set.image', () => gridCanvas(w, h, base));
      this.topCanvas = gridCanvas(w, h, top);
    } else {
      const px = timed('set.cellRaster', () => cellRaster(d.spec));
      this.cellsCanvas = timed('set.image', () => gridCanvas(w, h, px));
      this.topCanvas = undefined;
    }
    this.hatchLayer = undefined;
    this.mask = timed('set.mask', () => effectiveMask(d.spec));
    if (this.mask) {
      const m = new Uint8ClampedArray(w * h * 4);
      for (let r = 0; r < h; r++) {
        const dr = d.spec.flipRows ? h - 1 - r : r;
        for (let c = 0; c < w; c++) if (this.mask[r * w + c]) m[(dr * w + c) * 4 + 3] = 255;
      }
      this.maskCanvas = gridCanvas(w, h, m);
    } else this.maskCanvas = undefined;
    if (this.cursor && (this.cursor[0] >= h || this.cursor[1] >= w)) this.cursor = undefined;
    timed('set.redraw', () => this.redraw());
  }

  /** Overlay opacity (no raster rebuild: the layers are blended when drawn). */
  setOpacity(opacity: number): void {
    if (!this.d) return;
    this.d = { ...this.d, spec: { ...this.d.spec, opacity } };
    this.redraw();
  }

  /** Same data, new overlays (no raster rebuild). */
  setOverlays(o: MapOverlays): void {
    if (!this.d) return;
    this.d = { ...this.d, overlays: o };
    this.redraw();
  }

  /** Lay out for the current width and draw everything. */
  redraw(): void {
    const d = this.d;
    if (!d || !this.cellsCanvas) return;
    const { width: w, height: h } = d.spec;
    // Cells are square except in geographic mode, where a degree of lat and lon get the same length.
    const aspect = d.geo ? (h * d.geo.frame.dLat) / (w * d.geo.frame.dLon) : h / w;
    const maxH = this.maxHeight ?? maxPlotHeight(window.innerHeight);
    const { w: pw, h: ph } = plotSize(this.canvas.parentElement?.clientWidth ?? 400, aspect, maxH, d.heightRange);
    const cssH = ph + M.top + M.bottom;
    const dpr = window.devicePixelRatio || 1;
    const needW = Math.round((pw + M.left + M.right) * dpr);
    const needH = Math.round(cssH * dpr);
    if (this.canvas.width !== needW || this.canvas.height !== needH) {
      this.canvas.width = needW;
      this.canvas.height = needH;
      this.canvas.style.width = `${pw + M.left + M.right}px`;
      this.canvas.style.height = `${cssH}px`;
    }
    this.plot = { x: M.left, y: M.top, w: pw, h: ph };
    if (cssH !== this.lastHeight) { this.lastHeight = cssH; this.onLayout?.(cssH); }
    const ctx = this.canvas.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    // Shrinking a large map averages neighbours; enlarging keeps cells crisp.
    ctx.imageSmoothingEnabled = pw * dpr < w;
    ctx.drawImage(this.cellsCanvas, M.left, M.top, pw, ph);
    if (this.topCanvas) {
      ctx.globalAlpha = Math.max(0, Math.min(1, d.spec.opacity ?? 0.6));
      ctx.drawImage(this.topCanvas, M.left, M.top, pw, ph);
      ctx.globalAlpha = 1;
    }
    if (d.overlays.hatch && this.maskCanvas) timed('redraw.hatch', () => this.drawHatch(ctx, pw, ph));
    if (d.geo) timed('redraw.coast', () => this.drawCoast(ctx, d, pw, ph));
    this.drawOverlays(ctx, d, pw, ph);
    if (d.geo && d.regions?.length) this.drawRegions(ctx, d.geo.frame, d.regions, pw, ph);
    const fg = cssVar('--vscode-foreground', '#333');
    ctx.strokeStyle = fg;
    ctx.lineWidth = 1;
    ctx.strokeRect(M.left - 0.5, M.top - 0.5, pw + 1, ph + 1);
    this.drawAxes(ctx, d, pw, ph, fg);
    if (this.cursor) {
      const [r, c] = this.cursor;
      const dr = d.spec.flipRows ? h - 1 - r : r;
      const cw = pw / w;
      const ch = ph / h;
      ctx.strokeStyle = cssVar('--vscode-focusBorder', '#0078d4');
      ctx.lineWidth = 2;
      ctx.strokeRect(M.left + c * cw - 1, M.top + dr * ch - 1, Math.max(cw, 3) + 2, Math.max(ch, 3) + 2);
    }
  }

  private drawHatch(ctx: CanvasRenderingContext2D, pw: number, ph: number): void {
    // The hatch layer changes only with the size or the data: hovering reuses it.
    if (this.hatchLayer?.width === Math.ceil(pw) && this.hatchLayer.height === Math.ceil(ph)) {
      ctx.drawImage(this.hatchLayer, M.left, M.top);
      return;
    }
    const layer = document.createElement('canvas');
    this.hatchLayer = layer;
    layer.width = Math.ceil(pw);
    layer.height = Math.ceil(ph);
    const l = layer.getContext('2d')!;
    l.imageSmoothingEnabled = false;
    l.drawImage(this.maskCanvas!, 0, 0, pw, ph);
    l.globalCompositeOperation = 'source-in';
    const tile = gridCanvas(HATCH_PERIOD, HATCH_PERIOD, hatchTile());
    l.fillStyle = l.createPattern(tile, 'repeat')!;
    l.fillRect(0, 0, pw, ph);
    ctx.drawImage(layer, M.left, M.top);
  }

  private drawCoast(ctx: CanvasRenderingContext2D, d: MapDraw, pw: number, ph: number): void {
    const g = d.geo!;
    const f = g.frame;
    const key = `${pw}x${ph}:${f.lonWest},${f.dLon},${f.nLon},${f.latNorth},${f.dLat},${f.nLat}`;
    if (this.coast?.key !== key) {
      // Maps side by side share the projection: compute the path once for all of them.
      let path = coastCache.get(key);
      if (!path) {
        path = new Path2D(coastlinePath(g.topology, f, pw, ph));
        coastCache.set(key, path);
        if (coastCache.size > 16) coastCache.delete(coastCache.keys().next().value!);
      }
      this.coast = { key, path };
    }
    ctx.save();
    ctx.beginPath();
    ctx.rect(M.left, M.top, pw, ph);
    ctx.clip();
    ctx.translate(M.left, M.top);
    ctx.strokeStyle = '#1a1a1a';
    ctx.lineWidth = 1;
    ctx.stroke(this.coast.path);
    ctx.restore();
  }

  private drawOverlays(ctx: CanvasRenderingContext2D, d: MapDraw, pw: number, ph: number): void {
    const { width: w, height: h } = d.spec;
    const cw = pw / w;
    const ch = ph / h;
    const o = d.overlays;
    ctx.save();
    if (o.band && o.band > 0) {
      // The band is shaded and its inner edge dashed, so the cells inside stay readable.
      ctx.fillStyle = 'rgba(230, 160, 0, 0.18)';
      const bx = o.band * cw;
      const by = o.band * ch;
      ctx.fillRect(M.left, M.top, pw, by);
      ctx.fillRect(M.left, M.top + ph - by, pw, by);
      ctx.fillRect(M.left, M.top + by, bx, ph - 2 * by);
      ctx.fillRect(M.left + pw - bx, M.top + by, bx, ph - 2 * by);
      ctx.setLineDash([5, 3]);
      ctx.strokeStyle = '#d08000';
      ctx.lineWidth = 1.5;
      ctx.strokeRect(M.left + bx, M.top + by, pw - 2 * bx, ph - 2 * by);
      ctx.setLineDash([]);
    }
    if (o.stride && o.stride > 1) {
      ctx.strokeStyle = 'rgba(120, 0, 160, 0.55)';
      ctx.lineWidth = 1;
      ctx.beginPath();
      const p = o.phase ?? 0;
      for (let c = p; c <= w; c += o.stride) { ctx.moveTo(M.left + c * cw, M.top); ctx.lineTo(M.left + c * cw, M.top + ph); }
      for (let r = p; r <= h; r += o.stride) { ctx.moveTo(M.left, M.top + r * ch); ctx.lineTo(M.left + pw, M.top + r * ch); }
      ctx.stroke();
    }
    ctx.restore();
  }

  /** Outlined boxes (black under white: visible on both colormaps) with their names above them. */
  private drawRegions(ctx: CanvasRenderingContext2D, f: GeoFrame, regions: RegionBox[], pw: number, ph: number): void {
    ctx.save();
    ctx.beginPath();
    ctx.rect(M.left, M.top, pw, ph);
    ctx.clip();
    ctx.font = `bold ${FONT_PX}px ${cssVar('--vscode-font-family', 'sans-serif')}`;
    ctx.textBaseline = 'bottom';
    ctx.lineJoin = 'round';
    for (const g of regions) {
      const rects = regionRects(f, g, pw, ph);
      for (const r of rects) {
        for (const [colour, width] of [['#000', 3.5], ['#fff', 1.5]] as const) {
          ctx.strokeStyle = colour;
          ctx.lineWidth = width;
          ctx.strokeRect(M.left + r.x0, M.top + r.y0, r.x1 - r.x0, r.y1 - r.y0);
        }
      }
      const r = rects[0];
      if (!r) continue;
      // The name above the box, or inside its top edge when the box touches the top of the map.
      const y = r.y0 >= FONT_PX + 4 ? M.top + r.y0 - 3 : M.top + r.y0 + FONT_PX + 3;
      ctx.strokeStyle = '#fff';
      ctx.lineWidth = 3;
      ctx.strokeText(g.name, M.left + r.x0 + 2, y);
      ctx.fillStyle = '#000';
      ctx.fillText(g.name, M.left + r.x0 + 2, y);
    }
    ctx.restore();
  }

  private drawAxes(ctx: CanvasRenderingContext2D, d: MapDraw, pw: number, ph: number, fg: string): void {
    ctx.fillStyle = fg;
    ctx.strokeStyle = fg;
    ctx.font = `${FONT_PX}px ${cssVar('--vscode-font-family', 'sans-serif')}`;
    // As many ticks as the pixels allow, thinned so that no two labels overlap (measured in this font).
    const ticks = axisTicks({ width: d.spec.width, height: d.spec.height, flipRows: d.spec.flipRows, geo: d.geo?.frame }, { w: pw, h: ph }, (t) => ctx.measureText(t).width);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ctx.beginPath();
    for (const { at: x, label } of ticks.x) {
      ctx.moveTo(M.left + x, M.top + ph);
      ctx.lineTo(M.left + x, M.top + ph + 4);
      ctx.fillText(label, M.left + x, M.top + ph + 6);
    }
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const { at: y, label } of ticks.y) {
      ctx.moveTo(M.left - 4, M.top + y);
      ctx.lineTo(M.left, M.top + y);
      ctx.fillText(label, M.left - 6, M.top + y);
    }
    ctx.stroke();
  }

  /** Cell under a canvas point (CSS pixels), in data row order. */
  cellAt(x: number, y: number): [number, number] | undefined {
    const d = this.d;
    if (!d) return undefined;
    const { width: w, height: h } = d.spec;
    const c = Math.floor(((x - this.plot.x) / this.plot.w) * w);
    const dr = Math.floor(((y - this.plot.y) / this.plot.h) * h);
    if (c < 0 || c >= w || dr < 0 || dr >= h) return undefined;
    return [d.spec.flipRows ? h - 1 - dr : dr, c];
  }

  /** The plot area on the canvas (CSS pixels), as last drawn: charts below a map align with its columns. */
  plotRect(): { x: number; y: number; w: number; h: number } {
    return { ...this.plot };
  }

  /** Canvas point (CSS pixels) of a cell's centre. */
  cellCentre(row: number, col: number): [number, number] {
    const d = this.d!;
    const { width: w, height: h } = d.spec;
    const dr = d.spec.flipRows ? h - 1 - row : row;
    return [this.plot.x + (col + 0.5) * (this.plot.w / w), this.plot.y + (dr + 0.5) * (this.plot.h / h)];
  }

  info(row: number, col: number): CellInfo {
    const d = this.d!;
    const i = row * d.spec.width + col;
    return {
      row, col,
      lat: d.geo?.lat[row],
      lon: d.geo?.lon[col],
      input: d.spec.input ? Number(d.spec.input[i]) : undefined,
      relevance: d.spec.relevance ? Number(d.spec.relevance[i]) : undefined,
      axes: d.axes,
    };
  }

  moveTo(row: number, col: number): void {
    this.cursor = [row, col];
    this.redraw();
    this.onCell?.(this.info(row, col));
  }

  private hover(e: MouseEvent): void {
    const r = this.canvas.getBoundingClientRect();
    const cell = this.cellAt(e.clientX - r.left, e.clientY - r.top);
    if (!cell) return;
    if (this.cursor && this.cursor[0] === cell[0] && this.cursor[1] === cell[1]) return;
    this.moveTo(cell[0], cell[1]);
  }

  private key(e: KeyboardEvent): void {
    if (!this.d) return;
    const step = e.shiftKey ? 10 : 1;
    const [r, c] = this.cursor ?? [0, 0];
    const up = this.d.spec.flipRows ? 1 : -1; // arrow up moves north / towards row 0 on screen
    const moves: Record<string, [number, number]> = {
      ArrowUp: [up * step, 0], ArrowDown: [-up * step, 0], ArrowLeft: [0, -step], ArrowRight: [0, step],
    };
    const m = moves[e.key];
    if (!m) return;
    e.preventDefault();
    const nr = Math.max(0, Math.min(this.d.spec.height - 1, r + m[0]));
    const nc = Math.max(0, Math.min(this.d.spec.width - 1, c + m[1]));
    this.moveTo(nr, nc);
  }
}

/** A canvas holding an RGBA raster at its own size (one pixel per cell). */
export function gridCanvas(w: number, h: number, rgba: Uint8ClampedArray): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  c.getContext('2d')!.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, w, h), 0, 0);
  return c;
}

/** The hover readout line for a cell. */
export function describeCell(i: CellInfo, inputUnits?: string): string {
  const parts = [i.axes ? `${i.axes.col} ${i.col}, ${i.axes.row} ${i.row}` : `cell row ${i.row}, col ${i.col}`];
  if (i.lat !== undefined && i.lon !== undefined) parts.push(`${formatLat(i.lat, 2)} ${formatLon(i.lon, 2)}`);
  if (i.input !== undefined) parts.push(`input ${Number.isNaN(i.input) ? 'masked' : formatValue(i.input)}${inputUnits && !Number.isNaN(i.input) ? ' ' + inputUnits : ''}`);
  if (i.relevance !== undefined) parts.push(`relevance ${formatValue(i.relevance)}`);
  return parts.join(' · ');
}
