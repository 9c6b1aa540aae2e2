/**
 * How a model is named in the client's pickers and messages: by its file and the folder it sits in
 * ("resnet_small/model.h5"), since the name inside the file is often generic (every Keras Sequential
 * model is "sequential"). Pure (no vscode import) so it is tested with node:test.
 */

/** Names frameworks give models by default: they tell models apart no better than nothing. */
const GENERIC = /^(sequential|functional|model|keras_model|tf_model|tf_keras_model|module|torch[-_]jit|main_graph|graph)(_\d+)?$/i;

export interface ModelNaming {
  /** Absolute path of the model file (or SavedModel folder). */
  file: string;
  /** The name inside the file. */
  name: string;
  format?: { name: string };
  state?: 'ok' | 'error' | 'pending';
}

export interface ModelLabel {
  /** "folder/file": the name to show. */
  label: string;
  /** Where it is and what it is: the folder relative to the workspace, the format, a name inside that says more than the default. */
  description: string;
}

function parts(path: string): string[] {
  return path.split(/[\\/]+/).filter(Boolean);
}

/** The file name with its parent folder ("cnn/model.h5"); the file name alone at a root. */
export function fileAndFolder(file: string): string {
  const p = parts(file);
  if (p.length === 0) return file;
  const base = p[p.length - 1];
  const parent = p.length >= 2 && !/^[A-Za-z]:$/.test(p[p.length - 2]) ? p[p.length - 2] : undefined;
  return parent ? `${parent}/${base}` : base;
}

/** Whether the name inside the file adds anything to its file name (not a framework default, not the file's stem). */
export function distinctiveName(name: string, file: string): boolean {
  const n = name.trim();
  if (!n || GENERIC.test(n)) return false;
  const base = parts(file).pop() ?? '';
  const stem = base.replace(/\.[^.]*$/, '');
  return n !== base && n !== stem;
}

/**
 * The label and description of a model. `relativePath` is the file's path relative to the workspace
 * (as the editor writes it), shown as the folder when it says more than the parent folder alone.
 */
export function modelLabel(m: ModelNaming, relativePath?: string): ModelLabel {
  const label = fileAndFolder(m.file);
  const bits: string[] = [];
  if (relativePath) {
    const dir = parts(relativePath).slice(0, -1).join('/');
    const parent = parts(label).length > 1 ? parts(label)[0] : '';
    if (dir && dir !== parent) bits.push(dir);
  }
  if (m.format?.name) bits.push(m.format.name);
  if (distinctiveName(m.name, m.file)) bits.push(`"${m.name}"`);
  if (m.state === 'error') bits.push('did not load');
  return { label, description: bits.join(' · ') };
}
