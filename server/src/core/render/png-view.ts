/**
 * What the panel's "Export PNG" sends (maps as base64 float32, limits, coordinates): the parameters of
 * lrpLens/renderPng, rendered by png-request.ts. Types only, so the panel and the client share them.
 */
/** A map of the panel's PNG export: float32 values as base64. */
export interface EncodedMap {
  shape: number[];
  dtype: 'float32';
  base64: string;
}

/** The panel's "Export PNG" (maps, limits, coordinates), rendered by the server with sharp (lrpLens/renderPng). */
export interface PngRequest {
  title: string;
  panels: { title: string; mode: 'relevance' | 'input' | 'overlay'; relevance?: EncodedMap; input?: EncodedMap }[];
  height: number;
  width: number;
  /** Base64 of one byte per cell, 1 = masked. */
  mask?: string;
  limits: { vmin: number; vmax: number };
  colorbarLabel: string;
  opacity: number;
  coords?: { lat: number[]; lon: number[] };
  /** Named lat/lon boxes outlined on every panel (lrp-lens.json regions), with coords only. */
  regions?: { name: string; lat: [number, number]; lon: [number, number] }[];
}
