/**
 * The model side of `--config lrp-lens.json [--model NAME]` for the CLI commands: which entry, and which
 * model file(s) its `model` path or glob names. The data side is resolveInput (input.ts); a command
 * that picks the entry here pins it in args (`--model NAME`) so resolveInput reads the same one.
 */
import { extname, resolve } from 'node:path';
import { LensError } from '../core/errors.js';
import { findEntry, formatPath, readProject, type LensProject, type ModelEntry } from '../core/data/project.js';
import { expandModelGlob } from '../core/walk.js';
import { flagString, type ParsedArgs } from './args.js';
import { regularSize } from '../core/data/regular-file.js';
import { parseSelection } from '../core/data/select.js';

/** Extensions of model files (a glob such as model.* also matches TF.js weight shards: those are not models). */
const MODEL_EXT = new Set(['.h5', '.hdf5', '.keras', '.onnx', '.json']);

/**
 * The model files an entry names, sorted (model.h5 before model.json when a glob matches both); a glob
 * is walked by core/walk.ts's rules (inside its folder, never /proc or /sys, within an entry budget).
 */
export async function entryModelFiles(entry: ModelEntry): Promise<string[]> {
  return expandModelGlob(entry.baseDir, entry.model, (f) => MODEL_EXT.has(extname(f).toLowerCase()));
}

/** The entry --config picks: --model NAME, else the entry whose glob matches `modelPath`, else the only one. */
export async function pickEntry(args: ParsedArgs, modelPath?: string): Promise<{ project: LensProject; entry: ModelEntry }> {
  const config = flagString(args, 'config');
  if (config === undefined) throw new LensError('USAGE', '--config lrp-lens.json is required here');
  await regularSize(config);
  const project = await readProject(config);
  const name = flagString(args, 'model');
  let entry: ModelEntry | undefined;
  if (name !== undefined) entry = findEntry(project, name);
  else if (modelPath !== undefined) {
    try {
      entry = findEntry(project, resolve(modelPath));
    } catch {
      entry = undefined;
    }
  }
  if (!entry && project.models.length === 1) entry = project.models[0];
  if (!entry) {
    throw new LensError('USAGE', `${config} has ${project.models.length} models; pick one with --model (${project.models.map((m) => m.name).join(', ')})`, { file: project.file });
  }
  // resolveInput chooses by --model: make it choose this entry.
  args.flags.set('model', entry.name);
  return { project, entry };
}

/** The model file for a command: MODEL when given, else the first model file of the --config entry. */
export async function modelFor(args: ParsedArgs, positional: string | undefined): Promise<string> {
  if (flagString(args, 'config') === undefined) {
    if (positional === undefined) throw new LensError('USAGE', 'give the MODEL file (or --config lrp-lens.json --model NAME)');
    return positional;
  }
  const { project, entry } = await pickEntry(args, positional);
  if (positional !== undefined) return positional;
  const files = await entryModelFiles(entry);
  if (files.length === 0) {
    throw new LensError('FILE_NOT_FOUND', `${project.file}: ${formatPath(['models', entry.index, 'model'])}: no model file matches '${entry.model}' (relative to ${entry.baseDir})`, { file: project.file });
  }
  return files[0];
}

export { dataFile } from '../core/session/data-source.js';

/** Reject flags a command does not read, and input flags without the flag they qualify (they would be ignored). */
export function checkFlags(args: ParsedArgs, known: string[]): void {
  for (const k of args.flags.keys()) if (!known.includes(k)) throw new LensError('USAGE', `unknown option --${k}`);
  for (const k of ['var', 'select', 'fill']) if (args.flags.has(k) && !args.flags.has('data')) throw new LensError('USAGE', `--${k} goes with --data FILE`);
  if (args.flags.has('model') && !args.flags.has('config')) throw new LensError('USAGE', '--model NAME goes with --config lrp-lens.json');
  // The selection's syntax is checked before any file is read (BAD_INPUT naming the bad part).
  const select = args.flags.get('select');
  if (typeof select === 'string') parseSelection(select);
}

/** The flags resolveInput reads. */
export const INPUT_FLAG_NAMES = ['input', 'data', 'var', 'select', 'fill', 'config', 'model'];
