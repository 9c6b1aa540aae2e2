/**
 * Geographic mode: where a regular lat/lon grid lies in pixels, coastlines as an SVG path string
 * (Natural Earth via world-atlas, projected with d3-geo), and degree ticks. Pure: the webview draws
 * the path with Path2D, the PNG export hands it to sharp inside an SVG, so both draw the same lines.
 */
import { geoEquirectangular, geoPath, geoTransform, type GeoStream } from 'd3-geo';
import { mesh } from 'topojson-client';
import type { Topology, GeometryObject } from 'topojson-specification';

/** Cell-centre coordinates of a regular grid (lat may run north-to-south or south-to-north). */
export interface GeoCoords {
  lat: number[];
  lon: number[];
}

export interface GeoFrame {
  /** Longitude of the left edge of the first column, in the grid's own convention (0..360 or -180..180). */
  lonWest: number;
  /** Degrees per column (positive). */
  dLon: number;
  /** Latitude of the top edge of the top row shown (north). */
  latNorth: number;
  /** Degrees per row (positive). */
  dLat: number;
  /** Whether the data's row 0 is the southernmost (so it is drawn flipped, north up). */
  flipRows: boolean;
  nLat: number;
  nLon: number;
}

/** Checks that coordinates are regular enough to draw as a plate carree grid. */
export function geoFrame(c: GeoCoords): GeoFrame | undefined {
  const { lat, lon } = c;
  if (lat.length < 2 || lon.length < 2) return undefined;
  const dLat = Math.abs(lat[1] - lat[0]);
  const dLon = Math.abs(lon[1] - lon[0]);
  if (!(dLat > 0) || !(dLon > 0)) return undefined;
  const regular = (a: number[], d: number) => a.every((v, i) => i === 0 || Math.abs(Math.abs(v - a[i - 1]) - d) < d * 1e-3);
  if (!regular(lat, dLat) || !regular(lon, dLon)) return undefined;
  const flipRows = lat[0] < lat[lat.length - 1];
  const north = Math.max(lat[0], lat[lat.length - 1]);
  return {
    lonWest: Math.min(lon[0], lon[lon.length - 1]) - dLon / 2,
    dLon,
    latNorth: north + dLat / 2,
    dLat,
    flipRows,
    nLat: lat.length,
    nLon: lon.length,
  };
}

/** Pixel x of a longitude (degrees) on a plot `width` pixels wide; wraps into the grid's range. */
export function lonToX(f: GeoFrame, lon: number, width: number): number {
  let d = lon - f.lonWest;
  d = ((d % 360) + 360) % 360;
  return (d / (f.dLon * f.nLon)) * width;
}

export function latToY(f: GeoFrame, lat: number, height: number): number {
  return ((f.latNorth - lat) / (f.dLat * f.nLat)) * height;
}

/**
 * Coastlines of `topology` (a world-atlas land file) as an SVG path in plot pixels. Lines are cut at
 * the meridian opposite the plot's centre, so a Pacific-centred 0..360 grid draws no false lines.
 */
export function coastlinePath(topology: unknown, f: GeoFrame, width: number, height: number): string {
  const topo = topology as Topology;
  const obj = (topo.objects.land ?? Object.values(topo.objects)[0]) as GeometryObject;
  const lines = mesh(topo, obj as never);
  const lonC = f.lonWest + (f.dLon * f.nLon) / 2;
  const latC = f.latNorth - (f.dLat * f.nLat) / 2;
  // Equirectangular in degrees (x = lon - lonC, y = -lat), then scaled separately in x and y.
  const base = geoEquirectangular().rotate([-lonC, 0]).scale(180 / Math.PI).translate([0, 0]).precision(0.1);
  const sx = width / (f.dLon * f.nLon);
  const sy = height / (f.dLat * f.nLat);
  const lin = geoTransform({
    point(this: { stream: GeoStream }, x: number, y: number) {
      this.stream.point(width / 2 + x * sx, height / 2 + (y + latC) * sy);
    },
  });
  const projection = { stream: (s: GeoStream) => base.stream(lin.stream(s)) };
  return geoPath(projection).digits(1)(lines) ?? '';
}

/** Degree tick positions inside [lo, hi] at a round step giving about `target` ticks. */
export function degreeTicks(lo: number, hi: number, target = 6): number[] {
  const span = hi - lo;
  const step = [5, 10, 15, 20, 30, 45, 60, 90].find((s) => span / s <= target) ?? 90;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(v);
  return out;
}

/** Longitude as 120°E / 60°W (ticks: whole degrees; readouts: `digits` decimals, trailing zeros cut). */
export function formatLon(lon: number, digits = 0): string {
  const l = ((((lon + 180) % 360) + 360) % 360) - 180;
  const f = (v: number) => String(Number(v.toFixed(digits)));
  if (Math.abs(l) < 1e-9 || Math.abs(Math.abs(l) - 180) < 1e-9) return `${f(Math.abs(l))}°`;
  return l > 0 ? `${f(l)}°E` : `${f(-l)}°W`;
}

export function formatLat(lat: number, digits = 0): string {
  const f = (v: number) => String(Number(v.toFixed(digits)));
  if (Math.abs(lat) < 1e-9) return '0°';
  return lat > 0 ? `${f(lat)}°N` : `${f(-lat)}°S`;
}

/** A named lat/lon box (lrp-lens.json `regions`, the protocol's MapRegion): degrees north and east. */
export interface RegionBox {
  name: string;
  lat: [number, number];
  lon: [number, number];
}

/** A rectangle in plot pixels: x0 <= x < x1, y0 <= y < y1. */
export interface PixelRect { x0: number; y0: number; x1: number; y1: number }

/**
 * Where a region lies on a plot `w` x `h` px drawn in frame `f` (north up), as one or two rectangles: a
 * box across the grid's longitude seam (350..370 on a 0..360 grid) is cut in two. Clipped to the plot;
 * empty when the box misses the grid. The panel and the report's figures both outline these.
 */
export function regionRects(f: GeoFrame, g: RegionBox, w: number, h: number): PixelRect[] {
  const span = f.dLon * f.nLon;
  const y0 = Math.max(0, latToY(f, g.lat[1], h));
  const y1 = Math.min(h, latToY(f, g.lat[0], h));
  if (!(y1 > y0)) return [];
  // The west edge in the grid's own range (lonToX wraps into [lonWest, lonWest + 360)), the east edge
  // that many degrees further; what runs past 360 degrees comes round again at the west.
  const x0 = lonToX(f, g.lon[0], w);
  const x1 = x0 + ((g.lon[1] - g.lon[0]) / span) * w;
  const out: PixelRect[] = [];
  for (const shift of [0, -(360 / span) * w]) {
    const a = Math.max(0, x0 + shift);
    const b = Math.min(w, x1 + shift);
    if (b > a) out.push({ x0: a, y0, x1: b, y1 });
  }
  return out;
}
