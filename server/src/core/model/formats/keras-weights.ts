/**
 * Weight providers over the HDF5 layouts Keras writes:
 * - legacy (Keras 2 `save`/`save_weights`, Keras 3 `.h5`): `<root>/<layer>/...` with a `weight_names`
 *   attribute listing dataset paths relative to the layer group (`dense/kernel:0`, or Keras 3's
 *   `sequential/dense/kernel` with an extra scope);
 * - Keras 3 saving_lib (`.keras` zip, `.weights.h5`): `layers/<layer>/vars/0..n`, order per class.
 */
import { LensError } from '../../errors.js';
import { varsPathOf, type RawWeight, type WeightProvider } from './keras-config.js';
import { attrString, attrStringList, child, datasetInfo, getPath, isDataset, isGroup, readFloat32, type Dataset, type Group } from './hdf5.js';

export interface Budget {
  used: number;
  fileSize: number;
}

function raw(name: string, ds: Dataset, budget: Budget, file: string, layer: string): RawWeight {
  const info = datasetInfo(ds, { file, layer });
  return { name, shape: info.shape, read: () => readFloat32(ds, budget, { file, layer }, name).data };
}

/** Datasets below a group, depth first in key order (for groups without a weight_names list). */
function datasetsBelow(g: Group, prefix: string, out: [string, Dataset][], depth: number): void {
  if (depth > 8) return;
  for (const k of g.keys()) {
    const c = child(g, k);
    if (isDataset(c)) out.push([prefix + k, c]);
    else if (isGroup(c)) datasetsBelow(c, `${prefix}${k}/`, out, depth + 1);
  }
}

export function legacyProvider(root: Group | null, budget: Budget, file: string): WeightProvider {
  return (layer) => {
    if (!root) return null;
    const g = child(root, layer);
    if (!isGroup(g)) return null;
    const names = attrStringList(g, 'weight_names');
    if (names === undefined) {
      const found: [string, Dataset][] = [];
      datasetsBelow(g, '', found, 0);
      return found.map(([n, ds]) => raw(n, ds, budget, file, layer));
    }
    return names.map((n) => {
      const ds = getPath(g, n);
      if (!isDataset(ds)) throw new LensError('MISSING_WEIGHTS', `layer ${layer}: weight ${n} is listed but missing from the file`, { file, layer });
      return raw(n, ds, budget, file, layer);
    });
  };
}

/**
 * Keras 3 saving_lib layout. Groups under `layers/` are named by snake-cased class and repeat count in
 * the model's layer order (`conv2d`, `conv2d_1`, ...), not by layer name; newer Keras also writes the
 * layer's name as a `name` attribute of its `vars` group, which is preferred when present.
 */
export function varsProvider(root: Group, budget: Budget, file: string): WeightProvider {
  const bases = ['layers', '_layer_checkpoint_dependencies'];
  const byName = new Map<string, Group>();
  for (const b of bases) {
    const g = child(root, b);
    if (!isGroup(g)) continue;
    for (const k of g.keys()) {
      const layer = child(g, k);
      const v = getPath(g, `${k}/vars`);
      if (!isGroup(v) || !isGroup(layer)) continue;
      const n = attrString(v, 'name');
      if (n !== undefined && !byName.has(n)) byName.set(n, layer);
    }
  }
  return (layer, place) => {
    let g: Group | undefined = byName.get(layer);
    if (!g && byName.size === 0) {
      const p = varsPathOf(place);
      g = bases.map((b) => getPath(root, `${b}/${p}`)).find((x): x is Group => isGroup(x) && isGroup(child(x, 'vars')));
    }
    if (!g) return null;
    const out: RawWeight[] = [];
    layerVars(g, '', out, 0, budget, file, layer);
    return out;
  };
}

/**
 * A layer's own vars/0..n, then those of the sub-layers that hold its weights (an RNN's `cell`, a
 * Bidirectional's `forward_layer` then `backward_layer`, a wrapper's `layer`), in that order.
 */
const SUBLAYERS = ['cell', 'forward_layer', 'backward_layer', 'layer'];
function layerVars(g: Group, prefix: string, out: RawWeight[], depth: number, budget: Budget, file: string, layer: string): void {
  const vars = child(g, 'vars');
  if (isGroup(vars)) {
    const keys = vars.keys().filter((k) => /^\d+$/.test(k)).sort((a, b) => Number(a) - Number(b));
    for (const k of keys) {
      const ds = child(vars, k);
      if (!isDataset(ds)) throw new LensError('CORRUPT', `layer ${layer}: ${prefix}vars/${k} is not a dataset`, { file, layer });
      out.push(raw(`${prefix}${k}`, ds, budget, file, layer));
    }
  }
  if (depth > 2) return;
  for (const s of SUBLAYERS) {
    const sub = child(g, s);
    if (isGroup(sub)) layerVars(sub, `${prefix}${s}/`, out, depth + 1, budget, file, layer);
  }
}

/** Which layout a weights file uses: the group holding per-layer groups, and its kind. */
export function weightLayout(f: Group): { kind: 'legacy'; root: Group } | { kind: 'vars'; root: Group } | undefined {
  const mw = child(f, 'model_weights');
  if (isGroup(mw)) return { kind: 'legacy', root: mw };
  if (attrStringList(f, 'layer_names') !== undefined) return { kind: 'legacy', root: f };
  if (isGroup(child(f, 'layers')) || isGroup(child(f, '_layer_checkpoint_dependencies'))) return { kind: 'vars', root: f };
  return undefined;
}
