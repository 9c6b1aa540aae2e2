/**
 * Heat map, overlay and colour bar rasters as RGBA bytes. Pure code shared by the webview (which puts
 * the cell raster in an ImageData and lets the canvas scale it) and the PNG export (which scales it
 * here, nearest neighbour, and encodes it with sharp), so both show the same colours.
 */
import { LensError } from '../errors.js';
import {
  DIVERGING, GREY, HATCH_ALPHA, HATCH_PERIOD, HATCH_RGB, HATCH_WIDTH, NO_DATA_RGB, SEQUENTIAL,
  LUT_MAX, divergingIndex, sequentialIndex, type Colormap, type Limits,
} from './colormap.js';

export type ViewMode = 'relevance' | 'input' | 'overlay';

export interface RasterSpec {
  width: number;
  height: number;
  mode: ViewMode;
  /** Row-major relevance, height*width (needed for 'relevance' and 'overlay'). */
  relevance?: ArrayLike<number>;
  /** Row-major input, height*width (needed for 'input' and 'overlay'). */
  input?: ArrayLike<number>;
  /** 1 = masked (land, fill value). NaN inputs count as masked too. */
  mask?: Uint8Array;
  relLimits?: Limits;
  inLimits?: Limits;
  /** Overlay: weight of the relevance colour over the grey input, 0..1. */
  opacity?: number;
  /** Draw the last row at the top (data stored south to north, shown north up). */
  flipRows?: boolean;
  /** Colours of mode 'input': viridis (default), grey as under an overlay, or diverging (white at 0) for an anomaly field. */
  inputColormap?: 'sequential' | 'grey' | 'diverging';
}

/** Whether cell i is masked: flagged in the mask, or its input is not a number. */
export function maskedAt(spec: Pick<RasterSpec, 'mask' | 'input'>, i: number): boolean {
  if (spec.mask && spec.mask[i]) return true;
  return !!spec.input && Number.isNaN(spec.input[i]);
}

/** The mask as bytes (explicit mask or NaN input), or undefined when no cell is masked. */
export function effectiveMask(spec: Pick<RasterSpec, 'mask' | 'input' | 'width' | 'height'>): Uint8Array | undefined {
  const n = spec.width * spec.height;
  const m = spec.mask;
  const inp = spec.input;
  let out: Uint8Array | undefined;
  for (let i = 0; i < n; i++) {
    if ((m && m[i]) || (inp && inp[i] !== inp[i])) {
      out ??= new Uint8Array(n);
      out[i] = 1;
    }
  }
  return out;
}

function put(out: Uint8ClampedArray, o: number, cmap: Colormap, idx: number): void {
  out[o] = cmap.lut[idx * 3];
  out[o + 1] = cmap.lut[idx * 3 + 1];
  out[o + 2] = cmap.lut[idx * 3 + 2];
  out[o + 3] = 255;
}

/** One RGBA pixel per cell (width*height*4), rows already flipped when flipRows is set. */
export function cellRaster(spec: RasterSpec): Uint8ClampedArray {
  const { width: w, height: h, mode } = spec;
  const out = new Uint8ClampedArray(w * h * 4);
  const rel = spec.relevance;
  const inp = spec.input;
  if ((mode !== 'input' && !rel) || (mode !== 'relevance' && !inp)) throw new LensError('BAD_INPUT', `raster mode ${mode} lacks its data`);
  const rl = spec.relLimits ?? { vmin: -1, vmax: 1 };
  const il = spec.inLimits ?? { vmin: 0, vmax: 1 };
  const a = Math.max(0, Math.min(1, spec.opacity ?? 0.6));
  const D = DIVERGING.lut;
  const S = spec.inputColormap === 'grey' ? GREY.lut : spec.inputColormap === 'diverging' ? D : SEQUENTIAL.lut;
  const divIn = spec.inputColormap === 'diverging';
  const G = GREY.lut;
  // One loop per mode (this runs over a million cells for a 720x1440 map).
  for (let r = 0; r < h; r++) {
    const dr = spec.flipRows ? h - 1 - r : r;
    let o = dr * w * 4;
    let i = r * w;
    for (let c = 0; c < w; c++, i++, o += 4) {
      out[o + 3] = 255;
      if (mode === 'relevance') {
        const v = rel![i];
        if (v !== v) { out[o] = NO_DATA_RGB[0]; out[o + 1] = NO_DATA_RGB[1]; out[o + 2] = NO_DATA_RGB[2]; continue; }
        const k = divergingIndex(v, rl) * 3;
        out[o] = D[k]; out[o + 1] = D[k + 1]; out[o + 2] = D[k + 2];
      } else if (mode === 'input') {
        const v = inp![i];
        if (v !== v) { out[o] = NO_DATA_RGB[0]; out[o + 1] = NO_DATA_RGB[1]; out[o + 2] = NO_DATA_RGB[2]; continue; }
        const k = (divIn ? divergingIndex(v, il) : sequentialIndex(v, il)) * 3;
        out[o] = S[k]; out[o + 1] = S[k + 1]; out[o + 2] = S[k + 2];
      } else {
        const x = inp![i];
        const v = rel![i];
        let b0: number, b1: number, b2: number;
        if (x !== x) { b0 = NO_DATA_RGB[0]; b1 = NO_DATA_RGB[1]; b2 = NO_DATA_RGB[2]; }
        else { const g = sequentialIndex(x, il) * 3; b0 = G[g]; b1 = G[g + 1]; b2 = G[g + 2]; }
        if (v !== v) { out[o] = b0; out[o + 1] = b1; out[o + 2] = b2; continue; }
        const k = divergingIndex(v, rl) * 3;
        out[o] = Math.round(b0 * (1 - a) + D[k] * a);
        out[o + 1] = Math.round(b1 * (1 - a) + D[k + 1] * a);
        out[o + 2] = Math.round(b2 * (1 - a) + D[k + 2] * a);
      }
    }
  }
  return out;
}

function setRgb(out: Uint8ClampedArray, o: number, rgb: readonly number[]): void {
  out[o] = rgb[0];
  out[o + 1] = rgb[1];
  out[o + 2] = rgb[2];
  out[o + 3] = 255;
}

/** Whether output pixel (x, y) lies on a hatch line (diagonals running up to the right). */
export function onHatch(x: number, y: number): boolean {
  return (x + y) % HATCH_PERIOD < HATCH_WIDTH;
}

/**
 * A HATCH_PERIOD-square RGBA tile of the hatch lines (transparent elsewhere). The webview repeats it as
 * a canvas pattern over masked cells; the PNG export applies the same rule per pixel in `upscale`.
 */
export function hatchTile(): Uint8ClampedArray {
  const t = new Uint8ClampedArray(HATCH_PERIOD * HATCH_PERIOD * 4);
  for (let y = 0; y < HATCH_PERIOD; y++) {
    for (let x = 0; x < HATCH_PERIOD; x++) {
      if (!onHatch(x, y)) continue;
      const o = (y * HATCH_PERIOD + x) * 4;
      setRgb(t, o, HATCH_RGB);
      t[o + 3] = Math.round(HATCH_ALPHA * 255);
    }
  }
  return t;
}

/**
 * Nearest-neighbour upscale of a cell raster by integer factors, hatching masked cells (mask in the
 * data's row order; flipRows as in the raster).
 */
export function upscale(
  cells: Uint8ClampedArray, width: number, height: number, sx: number, sy: number,
  mask?: Uint8Array, flipRows = false,
): Uint8ClampedArray {
  const W = width * sx;
  const H = height * sy;
  const out = new Uint8ClampedArray(W * H * 4);
  const a = Math.round(HATCH_ALPHA * 255) / 255;
  for (let Y = 0; Y < H; Y++) {
    const dr = Math.floor(Y / sy);
    const srcRow = flipRows ? height - 1 - dr : dr;
    for (let X = 0; X < W; X++) {
      const c = Math.floor(X / sx);
      const s = (dr * width + c) * 4;
      const o = (Y * W + X) * 4;
      if (mask && mask[srcRow * width + c] && onHatch(X, Y)) {
        // Same blend as drawing the hatch tile with source-over in a canvas.
        for (let k = 0; k < 3; k++) out[o + k] = Math.round(cells[s + k] * (1 - a) + HATCH_RGB[k] * a);
      } else {
        out[o] = cells[s];
        out[o + 1] = cells[s + 1];
        out[o + 2] = cells[s + 2];
      }
      out[o + 3] = 255;
    }
  }
  return out;
}

/** A colour bar raster: vertical with the maximum at the top, or horizontal with it at the right. */
export function colorbarRaster(cmap: Colormap, length: number, thickness: number, vertical = true): Uint8ClampedArray {
  const w = vertical ? thickness : length;
  const h = vertical ? length : thickness;
  const out = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const pos = vertical ? length - 1 - y : x;
      const idx = length > 1 ? Math.round((pos / (length - 1)) * LUT_MAX) : LUT_MAX / 2;
      put(out, (y * w + x) * 4, cmap, idx);
    }
  }
  return out;
}

export { DIVERGING, SEQUENTIAL, GREY };
