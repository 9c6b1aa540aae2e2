/**
 * A PNG export request as the panel sends it (maps as base64 float32, limits, coordinates) and its
 * rendering: the server (or the extension host) answers the panel's "Export PNG" with these bytes.
 */
import { inputLimits } from './colormap.js';
import { geoFrame, type RegionBox } from './geo.js';
import { landTopology } from './land.js';
import { renderPng, type PngView } from './png.js';
import { LensError } from '../errors.js';
import type { EncodedMap, PngRequest } from './png-view.js';


function decode(m: EncodedMap | undefined, cells: number): Float32Array | undefined {
  if (!m) return undefined;
  // Base64 of the expected length, checked before decoding (the string's length bounds the work).
  if (typeof m.base64 !== 'string' || m.base64.length > Math.ceil((cells * 4) / 3) * 4 + 4) {
    throw new LensError('BAD_INPUT', `a map of ${cells} cells needs ${cells * 4} bytes of base64`);
  }
  const b = Buffer.from(m.base64, 'base64');
  if (b.length !== cells * 4) throw new LensError('BAD_INPUT', `a map of ${cells} cells needs ${cells * 4} bytes, got ${b.length}`);
  const out = new Float32Array(cells);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** The view a request describes, with the same colour limits the panel used. */
export function pngViewOf(req: PngRequest): PngView {
  // The request comes from a webview: check sizes before allocating.
  if (!Number.isInteger(req.height) || !Number.isInteger(req.width) || req.height < 1 || req.width < 1 || req.height * req.width > 4096 * 4096) {
    throw new LensError('BAD_INPUT', `bad map size ${req.height}x${req.width}`);
  }
  if (!Array.isArray(req.panels) || req.panels.length < 1 || req.panels.length > 4) throw new LensError('BAD_INPUT', 'a PNG view has 1 to 4 panels');
  if (!Number.isFinite(req.limits?.vmin) || !Number.isFinite(req.limits?.vmax)) throw new LensError('BAD_INPUT', 'colour limits must be finite');
  const cells = req.height * req.width;
  if (req.mask !== undefined && (typeof req.mask !== 'string' || req.mask.length > Math.ceil(cells / 3) * 4 + 4)) throw new LensError('BAD_INPUT', 'mask size does not match the map');
  const mask = req.mask ? new Uint8Array(Buffer.from(req.mask, 'base64')) : undefined;
  if (mask && mask.length !== cells) throw new LensError('BAD_INPUT', 'mask size does not match the map');
  const frame = req.coords ? geoFrame(req.coords) : undefined;
  const regions = checkRegions(req.regions);
  return {
    panels: req.panels.map((p) => {
      const relevance = decode(p.relevance, cells);
      const input = decode(p.input, cells);
      return {
        title: p.title,
        spec: {
          width: req.width, height: req.height, mode: p.mode, relevance, input, mask,
          relLimits: req.limits, inLimits: input ? inputLimits(input, mask) : undefined,
          opacity: req.opacity, flipRows: frame?.flipRows,
        },
      };
    }),
    colorbar: { limits: req.limits, label: req.colorbarLabel, kind: req.panels.every((p) => p.mode === 'input') ? 'sequential' : 'diverging' },
    geo: frame ? { frame, topology: landTopology(), ...(regions ? { regions } : {}) } : undefined,
  };
}

/** At most 64 boxes, each a short name and two [low, high] ranges of finite degrees. */
function checkRegions(v: unknown): RegionBox[] | undefined {
  if (v === undefined) return undefined;
  const range = (r: unknown) => Array.isArray(r) && r.length === 2 && r.every((x) => typeof x === 'number' && Number.isFinite(x)) && r[0] < r[1];
  const ok = Array.isArray(v) && v.length <= 64 && v.every((g) => typeof g === 'object' && g !== null
    && typeof (g as RegionBox).name === 'string' && (g as RegionBox).name.length <= 200 && range((g as RegionBox).lat) && range((g as RegionBox).lon));
  if (!ok) throw new LensError('BAD_INPUT', 'regions must be at most 64 {name, lat: [south, north], lon: [west, east]}');
  return (v as RegionBox[]).map((g) => ({ name: g.name, lat: [g.lat[0], g.lat[1]], lon: [g.lon[0], g.lon[1]] }));
}

export function renderPngRequest(req: PngRequest): Promise<Buffer> {
  return renderPng(pngViewOf(req));
}
