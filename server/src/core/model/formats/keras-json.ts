/**
 * Keras architecture JSON (`model.to_json()`, Keras 2 or 3) with a separate weights file: given by
 * option, or found next to `X.json` as `X_weights.h5`, `X.weights.h5` or `X.h5`. The weights file may be
 * a Keras 2 `save_weights` file, a Keras 3 `.weights.h5`, or a full-model `.h5`.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { LensError } from '../../errors.js';
import { headText, type FormatModule, type LoadOptions } from './format.js';
import type { ModelGraph } from '../graph.js';
import { buildKerasGraph, kerasMajor } from './keras-config.js';
import { metadataHeap } from '../../hdf5-heap.js';
import { attrString, openH5, quietly, type Group } from './hdf5.js';
import { legacyProvider, varsProvider, weightLayout } from './keras-weights.js';
import { parseJsonWithRanges, type JsonValue } from '../../json/located-json.js';
import { asLoadError } from './keras-h5.js';
import { readJsonText } from './model-file.js';
import { loadTfjsLayers } from './tfjs-layers.js';
import { KERAS_FILE_HINTS, withDefaultHint } from './refusal-hints.js';

const TFJS_MARKERS = /"(modelTopology|weightsManifest|format|generatedBy|convertedBy)"\s*:/;

/** Candidate weights files for `X.json`, in the order they are tried. */
export function weightCandidates(jsonPath: string): string[] {
  const dir = dirname(jsonPath);
  const stem = basename(jsonPath, extname(jsonPath));
  return [`${stem}_weights.h5`, `${stem}.weights.h5`, `${stem}.h5`, `${stem}_weights.hdf5`, `${stem}.hdf5`].map((n) => join(dir, n));
}

export async function loadKerasJson(path: string, opts: LoadOptions): Promise<ModelGraph> {
  const text = readJsonText(path);
  const parsed = parseJsonWithRanges(text, path);
  const root = parsed.value;
  if (root === null || typeof root !== 'object' || Array.isArray(root)) throw new LensError('BAD_JSON', 'the JSON file is not an object', { file: path });
  const obj = root as { [k: string]: JsonValue };
  // A TF.js layers file whose markers sit past the detection head: hand it over.
  if ('weightsManifest' in obj || 'modelTopology' in obj) return loadTfjsLayers(path);
  const cfg = obj.model_config ?? obj;
  const version = typeof obj.keras_version === 'string' ? obj.keras_version : obj.module !== undefined ? '3' : 'unknown';

  const weightsPath = opts.weightsPath ? resolve(opts.weightsPath) : weightCandidates(path).find((p) => existsSync(p));
  if (!weightsPath) {
    throw new LensError(
      'MISSING_WEIGHTS',
      `no weights file for this architecture JSON: looked for ${weightCandidates(path).map((p) => basename(p)).join(', ')} next to it; pass one with --weights`,
      { file: path },
    );
  }
  const h = await openH5(weightsPath).catch((e: unknown) => {
    throw e instanceof LensError ? new LensError(e.code, `weights file ${weightsPath}: ${e.message}`, { file: path, hint: e.hint }) : e;
  });
  try {
    return quietly(() => {
      const f = h.file as unknown as Group;
      const layout = weightLayout(f);
      const budget = { used: 0, fileSize: h.size };
      const weights = layout?.kind === 'vars' ? varsProvider(layout.root, budget, weightsPath) : legacyProvider(layout?.root ?? null, budget, weightsPath);
      const wVersion = attrString(f, 'keras_version');
      const v = version !== 'unknown' ? version : wVersion ?? 'unknown';
      return buildKerasGraph(cfg, {
        file: path,
        format: { name: 'keras-json', version: v, producer: `Keras ${v}` },
        weights,
        rangeOf: parsed.rangeOf,
        kerasMajor: obj.module !== undefined ? 3 : kerasMajor(v),
      });
    }, metadataHeap(h.size));
  } catch (e) {
    throw asLoadError(e, path, h.size);
  } finally {
    h.close();
  }
}

export const kerasJsonFormat: FormatModule = {
  name: 'keras-json',
  detect(path, head) {
    const t = headText(head).trimStart();
    if (!t.startsWith('{')) return false;
    if (TFJS_MARKERS.test(t)) return false;
    return /"(class_name|model_config)"\s*:/.test(t) || (path.toLowerCase().endsWith('.json') && /"module"\s*:\s*"keras/.test(t));
  },
  load: (path, opts) => loadKerasJson(path, opts).catch((e: unknown) => {
    throw withDefaultHint(e, KERAS_FILE_HINTS);
  }),
};

export const format = kerasJsonFormat;
export default kerasJsonFormat;
