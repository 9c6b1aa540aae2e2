/**
 * Keras full-model HDF5 (`model.save('x.h5')`, Keras 2.x and Keras 3): the architecture is the
 * `model_config` attribute, the weights live under `model_weights/<layer>/`. A weights-only file has no
 * `model_config` and is refused with NO_ARCHITECTURE (pair it with its to_json file instead).
 */
import { LensError } from '../../errors.js';
import type { FormatModule } from './format.js';
import type { ModelGraph } from '../graph.js';
import { buildKerasGraph, kerasMajor } from './keras-config.js';
import { attrString, hdf5Cause, isHdf5, openH5, quietly, type Group } from './hdf5.js';
import { legacyProvider, varsProvider, weightLayout } from './keras-weights.js';
import { metadataHeap, refusalCause } from '../../hdf5-heap.js';
import { parseJson } from '../../json/located-json.js';
import { KERAS_FILE_HINTS, withDefaultHint } from './refusal-hints.js';

/** Any non-LensError from h5wasm while walking the file means the file's structure is damaged. */
export function asLoadError(e: unknown, file: string, fileSize = 0): LensError {
  if (e instanceof LensError) return e.withFile(file);
  const msg = e instanceof Error ? e.message : String(e);
  return new LensError('CORRUPT', `cannot read the HDF5 structure: ${refusalCause(fileSize) ?? hdf5Cause(msg)}`, { file });
}

export async function loadKerasH5(path: string): Promise<ModelGraph> {
  const h = await openH5(path);
  try {
    return quietly(() => build(h.file as unknown as Group, h.size, path), metadataHeap(h.size));
  } catch (e) {
    throw asLoadError(e, path, h.size);
  } finally {
    h.close();
  }
}

/** The synchronous part: config and weights out of an open file. */
function build(f: Group, size: number, path: string): ModelGraph {
  const cfgText = attrString(f, 'model_config');
  if (cfgText === undefined) {
    throw new LensError(
      'NO_ARCHITECTURE',
      'this HDF5 file holds weights only (no model_config attribute): load the architecture JSON (model.to_json()) with this file as its weights',
      { file: path },
    );
  }
  const cfg = parseJson(cfgText, path);
  const version = attrString(f, 'keras_version') ?? 'unknown';
  const backend = attrString(f, 'backend');
  const budget = { used: 0, fileSize: size };
  const layout = weightLayout(f);
  const weights = layout?.kind === 'vars' ? varsProvider(layout.root, budget, path) : legacyProvider(layout?.root ?? null, budget, path);
  return buildKerasGraph(cfg, {
    file: path,
    format: { name: 'keras-h5', version, producer: `Keras ${version}${backend ? ` (${backend})` : ''}` },
    weights,
    kerasMajor: kerasMajor(version),
  });
}

export const kerasH5Format: FormatModule = {
  name: 'keras-h5',
  detect: (_path, head) => isHdf5(head),
  load: (path) => loadKerasH5(path).catch((e: unknown) => {
    throw withDefaultHint(e, KERAS_FILE_HINTS);
  }),
};

export const format = kerasH5Format;
export default kerasH5Format;
