/**
 * Keras 3 `.keras` archive: a zip with `config.json` (the model), `metadata.json` (Keras version) and
 * `model.weights.h5` (`layers/<name>/vars/0..n`; `optimizer/` variables are ignored). The zip is
 * checked (names, declared sizes, ratio) before anything is inflated.
 */
import { readFileSync } from 'node:fs';
import { LensError, LIMITS } from '../../errors.js';
import type { FormatModule } from './format.js';
import type { ModelGraph } from '../graph.js';
import { buildKerasGraph, kerasMajor } from './keras-config.js';
import { metadataHeap } from '../../hdf5-heap.js';
import { openH5Bytes, quietly, type Group } from './hdf5.js';
import { varsProvider, legacyProvider, weightLayout } from './keras-weights.js';
import { parseJson } from '../../json/located-json.js';
import { isZip, ZipArchive } from './zip.js';
import { asLoadError } from './keras-h5.js';
import { fileSize } from './model-file.js';
import { KERAS_FILE_HINTS, withDefaultHint } from './refusal-hints.js';

export async function loadKerasV3(path: string): Promise<ModelGraph> {
  const size = fileSize(path);
  if (size > LIMITS.maxZipEntryBytes) throw new LensError('FILE_TOO_LARGE', `.keras archive is ${size} bytes, over ${LIMITS.maxZipEntryBytes}`, { file: path });
  const zip = ZipArchive.open(new Uint8Array(readFileSync(path)), path);
  const cfgBytes = zip.read('config.json');
  if (!cfgBytes) throw new LensError('NO_ARCHITECTURE', '.keras archive has no config.json', { file: path });
  const cfg = parseJson(new TextDecoder().decode(cfgBytes), path);
  let version = '3';
  const meta = zip.read('metadata.json');
  if (meta) {
    const m = parseJson(new TextDecoder().decode(meta), path);
    if (m && typeof m === 'object' && !Array.isArray(m) && typeof m.keras_version === 'string') version = m.keras_version;
  }
  const wBytes = zip.read('model.weights.h5');
  if (!wBytes) throw new LensError('MISSING_WEIGHTS', '.keras archive has no model.weights.h5', { file: path });
  const h = await openH5Bytes(wBytes, 'model.weights.h5 in the archive').catch((e: unknown) => {
    throw e instanceof LensError ? e.withFile(path) : asLoadError(e, path);
  });
  try {
    return quietly(() => {
      const f = h.file as unknown as Group;
      const budget = { used: 0, fileSize: h.size };
      const layout = weightLayout(f);
      const weights = layout?.kind === 'legacy' ? legacyProvider(layout.root, budget, path) : varsProvider(f, budget, path);
      return buildKerasGraph(cfg, {
        file: path,
        format: { name: 'keras-v3', version, producer: `Keras ${version}` },
        weights,
        kerasMajor: Math.max(3, kerasMajor(version)),
      });
    }, metadataHeap(h.size));
  } catch (e) {
    throw asLoadError(e, path, h.size);
  } finally {
    h.close();
  }
}

export const kerasV3Format: FormatModule = {
  name: 'keras-v3',
  detect: (_path, head) => isZip(head),
  load: (path) => loadKerasV3(path).catch((e: unknown) => {
    throw withDefaultHint(e, KERAS_FILE_HINTS);
  }),
};

export const format = kerasV3Format;
export default kerasV3Format;
