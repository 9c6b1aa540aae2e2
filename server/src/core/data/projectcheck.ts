/**
 * Deep checks of lrp-lens.json for the language server and the CLI: on top of parseProject's
 * structure checks, every path must exist, every variable and selection must resolve in its file,
 * labels and mask must fit, and the input must have the model's shape. All from headers and
 * coordinates (a dry run of the pipeline), each problem at its key.
 */
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { Shape } from '../model/graph.js';
import { toLensError } from '../errors.js';
import { expandModelGlob } from '../walk.js';
import { KeyedError } from './keyed.js';
import { buildModelInput } from './pipeline.js';
import { parseProject, rangeOf, type LensProject, type ModelEntry, type ProjectIssue } from './project.js';

export interface ValidateOptions {
  /** The model's input shape (graph.inputs[0].fileShape) for an entry, when the caller can load the model. */
  modelInputShape?: (entry: ModelEntry, modelFiles: string[]) => Promise<Shape | undefined> | Shape | undefined;
  /** Open the data files (default true). */
  checkData?: boolean;
}

export async function checkEntry(project: LensProject, e: ModelEntry, opts: ValidateOptions = {}): Promise<ProjectIssue[]> {
  const issues: ProjectIssue[] = [];
  const add = (path: (string | number)[], code: ProjectIssue['code'], message: string, severity: ProjectIssue['severity'] = 'error'): void => {
    issues.push({ severity, code, message, path, range: rangeOf(project.locs, path) });
  };
  let models: string[] = [];
  try {
    models = await expandModelGlob(project.dir, e.model);
  } catch (err) {
    // A glob into /proc or past the walk's budget: said at the key, not thrown.
    const le = toLensError(err);
    add(['models', e.index, 'model'], le.code, le.message);
  }
  if (models.length === 0) add(['models', e.index, 'model'], 'FILE_NOT_FOUND', `no model file matches '${e.model}' (relative to ${project.dir})`);
  const files: [string, (string | number)[]][] = [[e.data.file, ['models', e.index, 'data', 'file']]];
  if (e.labels && 'file' in e.labels && e.labels.file) files.push([e.labels.file, ['models', e.index, 'labels', 'file']]);
  if (e.mask && e.mask !== 'missing' && e.mask.file) files.push([e.mask.file, ['models', e.index, 'mask', 'file']]);
  const st = e.input.standardize;
  if (st && 'climatology' in st && st.climatology?.file) files.push([st.climatology.file, ['models', e.index, 'input', 'standardize', 'climatology', 'file']]);
  let missing = false;
  for (const [f, path] of files) {
    if (!existsSync(resolve(e.baseDir, f))) {
      missing = true;
      add(path, 'FILE_NOT_FOUND', `no such file: ${f} (looked for ${relative(process.cwd(), resolve(e.baseDir, f)) || f})`);
    }
  }
  if (missing || opts.checkData === false) return issues;
  let shape: Shape | undefined;
  if (models.length && opts.modelInputShape) {
    try {
      shape = await opts.modelInputShape(e, models);
    } catch (err) {
      add(['models', e.index, 'model'], toLensError(err).code, `cannot load the model to check the input shape: ${toLensError(err).message}`, 'warning');
    }
  }
  try {
    await buildModelInput(e, shape, { dryRun: true });
  } catch (err) {
    if (err instanceof KeyedError) add(err.keyPath, err.code, err.message);
    else {
      const le = toLensError(err);
      add(['models', e.index, 'data'], le.code, le.message);
    }
  }
  return issues;
}

/** All problems of an lrp-lens.json text (unsaved editor text is fine), each with its key range. */
export async function validateProject(text: string, file: string, opts: ValidateOptions = {}): Promise<{ project?: LensProject; issues: ProjectIssue[] }> {
  const { project, issues } = parseProject(text, file);
  if (!project) return { issues };
  for (const e of project.models) issues.push(...(await checkEntry(project, e, opts)));
  return { project, issues };
}
