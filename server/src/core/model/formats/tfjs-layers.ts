/**
 * TF.js layers models: converter output (`format: layers-model`, `modelTopology` holding the Keras
 * model, or its older `model_config` wrapper) and files tfjs-layers writes itself (topology at the top of
 * `modelTopology`, list-style Sequential configs). Weights come from `weightsManifest`: several groups,
 * each a run of shard files read back to back (tfjs-weights.ts). TF.js graph models (ops, not layers) are
 * refused here with GRAPH_MODEL; the format module hands them to the graph model reader (tfjs-graph.ts).
 */
import { LensError } from '../../errors.js';
import { headText, type FormatModule } from './format.js';
import type { ModelGraph } from '../graph.js';
import { buildKerasGraph, kerasMajor, type RawWeight, type WeightProvider } from './keras-config.js';
import { parseJsonWithRanges, type JsonValue } from '../../json/located-json.js';
import { readJsonText } from './model-file.js';
import { readWeightsManifest, type ManifestWeight } from './tfjs-weights.js';
import { tfjsGraphFormat } from './tfjs-graph.js';
import { KERAS_FILE_HINTS, withDefaultHint } from './refusal-hints.js';

type Obj = { [k: string]: JsonValue };
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

export async function loadTfjsLayers(path: string): Promise<ModelGraph> {
  const text = readJsonText(path);
  const parsed = parseJsonWithRanges(text, path);
  const root = parsed.value;
  if (!isObj(root)) throw new LensError('BAD_JSON', 'model.json is not a JSON object', { file: path });
  const topo = isObj(root.modelTopology) ? root.modelTopology : root.class_name !== undefined ? root : undefined;
  if (root.format === 'graph-model' || (topo && Array.isArray(topo.node))) {
    throw new LensError('GRAPH_MODEL', 'this is a TF.js graph model (a TensorFlow op graph, no Keras layers), not a layers model; read it with the graph model reader (format tfjs-graph)', { file: path });
  }
  if (!topo) throw new LensError('NO_ARCHITECTURE', 'model.json has no modelTopology', { file: path });
  const cfg = isObj(topo.model_config) ? topo.model_config : topo;
  const kv = typeof topo.keras_version === 'string' ? topo.keras_version : undefined;
  const generatedBy = typeof root.generatedBy === 'string' ? root.generatedBy : undefined;
  const convertedBy = typeof root.convertedBy === 'string' ? root.convertedBy : undefined;
  const version = kv ?? generatedBy ?? 'unknown';

  const { weights, decode } = readWeightsManifest(root.weightsManifest, path);

  // Manifest names are `<layer>/<weight>` (possibly with more scope before them).
  const byLayer = new Map<string, ManifestWeight[]>();
  for (const w of weights) {
    const parts = w.name.split('/');
    if (parts.length < 2) continue;
    const layer = parts[parts.length - 2];
    const list = byLayer.get(layer) ?? [];
    list.push(w);
    byLayer.set(layer, list);
  }
  const provider: WeightProvider = (layer) => {
    // Recurrent layers scope their weights by cell (`lstm/lstm_cell/kernel`, `bidirectional/forward_lstm/...`):
    // then the layer's name is further up the path; manifest order is kept (the loader reads them by order).
    const list = byLayer.get(layer) ?? weights.filter((w) => w.name.split('/').slice(0, -2).includes(layer));
    if (list.length === 0) return null;
    return list.map((w): RawWeight => ({ name: w.name, shape: w.shape, read: () => decode(w) }));
  };

  return buildKerasGraph(cfg, {
    file: path,
    format: { name: 'tfjs-layers', version, producer: convertedBy ?? generatedBy ?? (kv ? `Keras ${kv}` : undefined) },
    weights: provider,
    rangeOf: parsed.rangeOf,
    kerasMajor: kv && /^\d/.test(kv) ? kerasMajor(kv) : 2,
  });
}

export const tfjsLayersFormat: FormatModule = {
  name: 'tfjs-layers',
  detect(_path, head) {
    const t = headText(head).trimStart();
    return t.startsWith('{') && /"(modelTopology|weightsManifest|format|generatedBy|convertedBy)"\s*:/.test(t);
  },
  // A graph model that detection sent here (its "format" key beyond the bytes detection reads) goes to its reader.
  load: (path) => loadTfjsLayers(path).catch((e: unknown) => {
    if (e instanceof LensError && e.code === 'GRAPH_MODEL') return tfjsGraphFormat.load(path, {});
    throw withDefaultHint(e, KERAS_FILE_HINTS);
  }),
};

export const format = tfjsLayersFormat;
export default tfjsLayersFormat;
