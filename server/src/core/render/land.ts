/** Natural Earth 110m land from world-atlas (a TopoJSON topology), read once and shared by every map figure. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

let land: unknown;

export function landTopology(): unknown {
  land ??= JSON.parse(readFileSync(createRequire(import.meta.url).resolve('world-atlas/land-110m.json'), 'utf8'));
  return land;
}
