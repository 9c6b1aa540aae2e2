/**
 * Writing a model entry into lrp-lens.json (the panel's "Save"): the file is created (with "version": 1;
 * no "$schema" URL, which an offline editor cannot load: the extension maps lrp-lens.json to the bundled
 * schema) when missing; otherwise the entry for the model is replaced, or a new one appended, by
 * editing the text at the located JSON ranges, so the rest of the user's file keeps its bytes. Paths are
 * written relative to the project file's folder; the name is unique (from the model's file or folder
 * name). Only a project file inside the model's workspace folder is written, and only when the result
 * passes the project parser.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { compilePathGlob } from '../glob.js';
import { LensError } from '../errors.js';
import { parseLocatedJson, pathKey } from '../json/located-json.js';
import { entryObject, type DraftEntry } from './draft.js';
import { parseProject, projectPath, ProjectError, type LensProject } from './project.js';
import { readRegular } from './regular-file.js';


export interface SaveOptions {
  /** Absolute path of the model the entry is for. */
  modelFile: string;
  draft: DraftEntry;
  /** The lrp-lens.json to write (absolute). */
  projectFile: string;
  /** The workspace folder that holds the model: nothing is written outside it. */
  root: string;
}

export interface SaveResult {
  project: string;
  name: string;
  index: number;
  created: boolean;
  replaced: boolean;
}

/** File names that say nothing about the model: the entry is named after the folder instead. */
const GENERIC = /^(model|saved_model|keras_metadata|weights|checkpoint|network|net)$/i;

/** The model's name for an entry: its file's base name, or its folder's for generic names (model.h5). */
export function defaultName(modelFile: string): string {
  const base = basename(modelFile).replace(/\.[^.]*$/, '');
  const dir = basename(dirname(modelFile));
  return GENERIC.test(base) && dir ? dir : base || 'model';
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

function inside(root: string, p: string): boolean {
  const r = realOrSelf(root);
  return p === r || p.startsWith(r.endsWith(sep) ? r : r + sep);
}

/** The entry of `project` whose model path or glob names this model file. */
function entryFor(project: LensProject, modelFile: string): number | undefined {
  const abs = resolve(modelFile).replace(/\\/g, '/');
  return project.models.find((m) => compilePathGlob(projectPath(project, m.model).replace(/\\/g, '/')).test(abs))?.index;
}

/** The file's indentation unit (the first indented line's), two spaces by default. */
function indentUnit(text: string): string {
  const m = /\n([ \t]+)\S/.exec(text);
  return m ? m[1] : '  ';
}

/** The whitespace before offset `at` on its line (when only whitespace precedes it). */
function lineIndent(text: string, at: number): string | undefined {
  const start = text.lastIndexOf('\n', at - 1) + 1;
  const lead = text.slice(start, at);
  return /^[ \t]*$/.test(lead) ? lead : undefined;
}

const serialize = (obj: unknown, unit: string, indent: string): string => JSON.stringify(obj, null, unit).split('\n').join('\n' + indent);

/** Write the draft as the model's entry; see the module comment. */
export async function saveEntry(opts: SaveOptions): Promise<SaveResult> {
  const file = resolve(opts.projectFile);
  const dir = dirname(file);
  if (!/\.json$/i.test(file)) throw new LensError('BAD_INPUT', `the project file must be a .json file (got ${basename(file)})`, { file });
  // The folder must exist and lie inside the workspace folder, symlinks resolved.
  if (!existsSync(dir) || !inside(opts.root, realOrSelf(dir)) || (existsSync(file) && !inside(opts.root, realOrSelf(file)))) {
    throw new LensError('BAD_INPUT', `will not write ${file}: it is outside the model's workspace folder ${opts.root}`, { file });
  }
  const created = !existsSync(file);
  const text = created ? '' : new TextDecoder('utf-8').decode(await readRegular(file, 'projectBytes'));
  let out: string;
  let index: number;
  let replaced = false;
  let name: string;
  if (created) {
    name = opts.draft.name ?? defaultName(opts.modelFile);
    const entry = entryObject(opts.draft, opts.modelFile, dir, name);
    out = JSON.stringify({ version: 1, models: [entry] }, null, 2) + '\n';
    index = 0;
  } else {
    const { project, issues } = parseProject(text, file);
    if (!project) throw new ProjectError(issues, file);
    const located = parseLocatedJson(text, { file, locations: true });
    const root = located.value as Record<string, unknown>;
    const raw = Array.isArray(root.models) ? root.models : undefined;
    if (root.models !== undefined && !raw) throw new LensError('CONFIG_ERROR', `${file}: 'models' is not an array; fix it before saving an entry`, { file });
    const at = entryFor(project, opts.modelFile);
    const taken = new Set(project.models.filter((m) => m.index !== at).map((m) => m.name));
    const wanted = opts.draft.name ?? defaultName(opts.modelFile);
    name = wanted;
    for (let k = 2; taken.has(name); k++) name = `${wanted}-${k}`;
    const entry = entryObject(opts.draft, opts.modelFile, dir, name);
    const unit = indentUnit(text);
    if (at !== undefined) {
      const [s, e] = located.locs.get(pathKey(['models', at]))!.value;
      out = text.slice(0, s) + serialize(entry, unit, lineIndent(text, s) ?? unit + unit) + text.slice(e);
      index = at;
      replaced = true;
    } else if (raw && raw.length > 0) {
      const [s, e] = located.locs.get(pathKey(['models', raw.length - 1]))!.value;
      const indent = lineIndent(text, s) ?? unit + unit;
      out = text.slice(0, e) + ',\n' + indent + serialize(entry, unit, indent) + text.slice(e);
      index = raw.length;
    } else if (raw) {
      const loc = located.locs.get(pathKey(['models']))!;
      const outer = lineIndent(text, loc.key![0]) ?? unit;
      out = text.slice(0, loc.value[0]) + '[\n' + outer + unit + serialize(entry, unit, outer + unit) + '\n' + outer + ']' + text.slice(loc.value[1]);
      index = 0;
    } else {
      // No "models" yet: added as the root object's last member.
      const [, e] = located.locs.get(pathKey([]))!.value;
      const close = text.lastIndexOf('}', e);
      const head = text.slice(0, close).replace(/\s*$/, '');
      const sepr = Object.keys(root).length ? ',' : '';
      out = `${head}${sepr}\n${unit}"models": [\n${unit}${unit}${serialize(entry, unit, unit + unit)}\n${unit}]\n` + text.slice(close);
      index = 0;
    }
  }
  // The result must read back: no error in the new entry (other entries' problems are the user's own).
  const check = parseProject(out, file);
  const mine = check.issues.filter((i) => i.severity === 'error' && (i.path[0] !== 'models' || i.path[1] === index || i.path.length < 2));
  if (!check.project || mine.length) throw new ProjectError(mine.length ? mine : check.issues, file);
  // Write a temporary file next to it, then rename: a reader never sees half a file.
  const tmp = join(dir, `.lrp-lens.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(tmp, out, 'utf8');
  await rename(tmp, file);
  return { project: file, name, index, created, replaced };
}
