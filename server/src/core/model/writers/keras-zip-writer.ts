/**
 * Writes a Keras 3 `.keras` archive (config.json, metadata.json, model.weights.h5 with
 * `layers/<l>/vars/<i>` and some optimizer vars the loader must skip). For fixtures, samples and fuzz.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { zipSync, strToU8 } from 'fflate';
import { writeKerasWeightsH5, type LayerWeights } from './keras-h5-writer.js';
import type { JsonValue } from '../../json/located-json.js';

type Obj = { [k: string]: JsonValue };

/**
 * `configV3` is a Keras 3 style model config; `weights` by layer name (reordered per class). `nameAttrs`
 * writes the layer-name attribute newer Keras puts on each vars group.
 */
export async function writeKerasZip(path: string, configV3: Obj, weights: LayerWeights, opts: { kerasVersion?: string; nameAttrs?: boolean } = {}): Promise<void> {
  const kerasVersion = opts.kerasVersion ?? '3.3.3';
  const tmp = join(tmpdir(), `lrp-lens-w-${process.pid}-${randomBytes(6).toString('hex')}.h5`);
  try {
    await writeKerasWeightsH5(tmp, weights, { style: 'keras3', layout: 'vars', modelConfig: configV3, nameAttrs: opts.nameAttrs, optimizerVars: 3 });
    const h5 = new Uint8Array(readFileSync(tmp));
    const zip = zipSync({
      'metadata.json': strToU8(JSON.stringify({ keras_version: kerasVersion, date_saved: '2024-01-01@00:00:00' })),
      'config.json': strToU8(JSON.stringify(configV3)),
      'model.weights.h5': h5,
    });
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, zip);
  } finally {
    rmSync(tmp, { force: true });
  }
}
