/**
 * A model entry of lrp-lens.json that is not written yet (the panel's data form): the entry as the file
 * would hold it (keys in the file's order, paths relative to the project folder), and the same entry
 * parsed as a one-entry project in that folder, so it meets the project file's own checks and messages.
 */
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parseProject, type LensProject, type ProjectIssue } from './project.js';
import type { EntryDraft } from './form-types.js';

/** The same JSON keys and values as a model entry of lrp-lens.json (declared once in form-types.ts). */
export type DraftEntry = EntryDraft;

/** Model entry keys in the order lrp-lens.json writes them. */
const ORDER = ['name', 'model', 'data', 'input', 'labels', 'classNames', 'mask', 'coords', 'explain'] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Every file path of a draft (data, mask, labels, climatology), each replaced by `fn`'s answer; a copy.
 * Anything that is not a path string is left as it is (the parser reports it).
 */
export function mapDraftFiles(draft: DraftEntry, fn: (p: string, key: string) => string): DraftEntry {
  const d = structuredClone(draft) as DraftEntry & Obj;
  const at = (o: unknown, key: string): void => {
    if (isObj(o) && typeof o.file === 'string' && o.file !== '') o.file = fn(o.file, key);
  };
  at(d.data, 'data.file');
  at(d.mask, 'mask.file');
  at(d.labels, 'labels.file');
  if (isObj(d.input) && isObj(d.input.standardize)) at(d.input.standardize.climatology, 'input.standardize.climatology.file');
  return d;
}

/** A path as lrp-lens.json in `dir` writes it: relative, with forward slashes. */
export function relativePath(dir: string, p: string): string {
  const abs = isAbsolute(p) ? p : resolve(dir, p);
  const rel = relative(dir, abs);
  return (rel === '' ? '.' : rel).split(sep).join('/');
}

/** The model entry object as it will be written: model and file paths relative to `dir`, keys in order. */
export function entryObject(draft: DraftEntry, modelFile: string, dir: string, name: string): Obj {
  const d = mapDraftFiles(draft, (p) => relativePath(dir, p)) as DraftEntry & Obj;
  const src: Obj = { ...d, name, model: relativePath(dir, modelFile) };
  const out: Obj = {};
  for (const k of ORDER) if (src[k] !== undefined) out[k] = src[k];
  // Keys the parser does not know stay (it warns about them where the user can see them).
  for (const [k, v] of Object.entries(src)) if (!(k in out) && v !== undefined) out[k] = v;
  return out;
}

/** The draft as a one-entry project in `dir` (a virtual lrp-lens.json there), checked by the project parser. */
export function draftProject(draft: DraftEntry, modelFile: string, dir: string, name = 'draft'): { project?: LensProject; issues: ProjectIssue[]; entry: Obj } {
  const entry = entryObject(draft, modelFile, dir, draft.name ?? name);
  const text = JSON.stringify({ version: 1, models: [entry] }, null, 2);
  const { project, issues } = parseProject(text, join(dir, 'lrp-lens.json'));
  return { project: project?.models.length ? project : undefined, issues, entry };
}

/** A draft issue's key path inside the entry ("input.standardize.period"), for a form to point at. */
export function entryKey(path: (string | number)[]): string {
  const rest = path[0] === 'models' && typeof path[1] === 'number' ? path.slice(2) : path;
  return rest.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '');
}
