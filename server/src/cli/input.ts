/**
 * The model input for any command, from one of:
 *   --input X.npy                                   an array in the model's layout
 *   --data FILE [--var NAME] [--select DIM=A:B,...] [--fill V]   a data file (any supported format)
 *   --config lrp-lens.json [--model NAME]           a project entry (the pipeline in core/data/pipeline.ts)
 * Commands call resolveInput(args, graph.inputs[0].fileShape, graph.inputs[0].fileLayout), or hand
 * dataSourceOf(args) to a session (core/session/session.ts), which resolves it the same way.
 */
import type { Shape } from '../core/model/graph.js';
import { LensError } from '../core/errors.js';
import { findEntry, readProject, type ModelEntry } from '../core/data/project.js';
import { flagNumber, flagString, type ParsedArgs } from './args.js';
import { regularSize } from '../core/data/regular-file.js';
import { resolveData, type DataSource, type SessionData } from '../core/session/data-source.js';

export { fitToModel } from '../core/session/data-source.js';

/** The model input as the session resolved it (core/session/data-source.ts). */
export type ResolvedInput = SessionData;

/** Flags this module reads (for commands' usage text). */
export const INPUT_FLAGS = '--input X.npy | --data FILE [--var NAME] [--select DIM=START:STOP,...] [--fill V] | --config lrp-lens.json [--model NAME]';

/** Which data source the flags name (exactly one of --input, --data, --config). */
export async function dataSourceOf(args: ParsedArgs): Promise<DataSource> {
  const input = flagString(args, 'input');
  const data = flagString(args, 'data');
  const config = flagString(args, 'config');
  const given = [input, data, config].filter((x) => x !== undefined).length;
  if (given !== 1) throw new LensError('USAGE', `give exactly one of --input, --data or --config (${INPUT_FLAGS})`);
  if (input !== undefined) return { kind: 'npy', file: input };
  if (data !== undefined) return { kind: 'field', file: data, variable: flagString(args, 'var'), select: flagString(args, 'select'), fill: flagNumber(args, 'fill') };
  await regularSize(config!);
  const project = await readProject(config!);
  const name = flagString(args, 'model');
  let entry: ModelEntry;
  if (name !== undefined) entry = findEntry(project, name);
  else if (project.models.length === 1) entry = project.models[0];
  else throw new LensError('USAGE', `${config} has ${project.models.length} models; pick one with --model (${project.models.map((m) => m.name).join(', ')})`);
  return { kind: 'project', project, entry };
}

/** The model input the flags name, fitted to the model's input shape and (for a project) planned in its file layout. */
export async function resolveInput(args: ParsedArgs, expectedShape?: Shape, fileLayout?: string): Promise<ResolvedInput> {
  return resolveData(await dataSourceOf(args), expectedShape ? { fileShape: expectedShape, fileLayout } : undefined);
}
