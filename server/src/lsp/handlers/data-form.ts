/**
 * The panel's data form: lrpLens/describeData (a data file's variables, axes and suggested choices),
 * lrpLens/planInput (do the choices fit the model? with a preview map) and lrpLens/saveEntry (write them
 * into lrp-lens.json). Every path the form names is confined as explain's are (workspace folders, or
 * picked in a dialog); relative paths start at the folder the entry is saved in.
 */
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import type { CancellationToken } from 'vscode-languageserver/node';
import { LensError } from '../../core/errors.js';
import { describeData as describeFile, fileLabel } from '../../core/data/describe.js';
import { mapDraftFiles, type DraftEntry } from '../../core/data/draft.js';
import { saveEntry as writeEntry } from '../../core/data/project-writer.js';
import { suggestEntry, type ModelInputInfo } from '../../core/data/suggest.js';
import type { ModelGraph } from '../../core/model/graph.js';
import { planInput as plan } from '../../core/session/data-plan.js';
import type { DataDescription, DescribeDataParams, EncodedArray, EntryDraft, PlanInputParams, PlanInputResult, SaveEntryParams, SaveEntryResult } from '../../protocol.js';
import { getGraph } from '../analyzer.js';
import { PROJECT_FILE } from '../project.js';
import type { ServerState } from '../state.js';
import { onFsEvent } from './files.js';

/** The workspace folder that holds a file (the longest root it lies in). */
export function rootOf(state: ServerState, file: string): string | undefined {
  return [...state.roots].sort((a, b) => b.length - a.length).find((r) => file === r || file.startsWith(r.endsWith(sep) ? r : r + sep));
}

/** The folder a model's entry is saved in: its lrp-lens.json's, else its workspace folder. */
export function entryDir(state: ServerState, model: string): string {
  const project = state.projectFileFor(model);
  return project ? dirname(project) : rootOf(state, model) ?? dirname(model);
}

/** The draft with every file path made absolute (from `dir`) and confined; BAD_INPUT names the key otherwise. */
export function confineDraft(state: ServerState, draft: EntryDraft, dir: string): EntryDraft {
  return mapDraftFiles(draft as DraftEntry, (p, key) => state.confined(isAbsolute(p) ? p : resolve(dir, p), `${key} of the entry:`)) as EntryDraft;
}

function modelInfo(graph: ModelGraph): ModelInputInfo {
  const input = graph.inputs[0];
  return { fileShape: input.fileShape, fileLayout: input.fileLayout, recurrent: graph.nodes.some((n) => n.kind === 'Recurrent') };
}

const encode = (data: Float32Array, shape: number[]): EncodedArray => ({ shape, dtype: 'float32', base64: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') });

export async function describeData(state: ServerState, params: DescribeDataParams, _token: CancellationToken): Promise<DataDescription> {
  const file = state.confined(params.file, 'data file');
  const info = await describeFile(file);
  const model = params.model ? await getGraph(state.resolveModel(params.model)) : undefined;
  const { entry, notes } = suggestEntry(info, model && modelInfo(model));
  return { ...info, file, ...(entry ? { defaults: entry as EntryDraft } : {}), notes };
}

export async function planInput(state: ServerState, params: PlanInputParams, _token: CancellationToken): Promise<PlanInputResult> {
  const modelFile = state.resolveModel(params.model);
  const dir = entryDir(state, modelFile);
  const draft = confineDraft(state, params.entry, dir);
  const graph = await getGraph(modelFile);
  const input = graph.inputs[0];
  if (!input) throw new LensError('BAD_INPUT', `${fileLabel(modelFile)} has no input`, { file: modelFile });
  // The variable's units and whether the file says it holds anomalies, for the preview's colour bar.
  const variable = draft.data.variable ?? draft.data.variables?.[0];
  const about = await describeFile(draft.data.file).then(
    (d) => {
      const v = d.variables.find((x) => x.name === variable) ?? (variable === undefined ? d.variables[0] : undefined);
      return { units: v?.units, anomalies: [v?.name, v?.longName, fileLabel(d.file)].some((s) => s && /anom/i.test(s)) };
    },
    () => ({ units: undefined, anomalies: false }),
  );
  const p = await plan(draft as DraftEntry, { modelFile, spec: { fileShape: input.fileShape, fileLayout: input.fileLayout }, dir, previewSample: params.previewSample, ...about });
  const out: PlanInputResult = { fits: p.fits, problems: p.problems, modelShape: p.modelShape, samples: p.samples, entry: p.entry as unknown as EntryDraft };
  if (p.dataShape) out.dataShape = p.dataShape;
  if (p.firstTime) out.firstTime = p.firstTime;
  if (p.lastTime) out.lastTime = p.lastTime;
  if (p.preview) {
    const v = p.preview;
    out.preview = {
      map: encode(v.map, [...v.shape]),
      diverging: v.diverging,
      sample: v.sample,
      ...(v.coords ? { coords: v.coords } : {}),
      ...(v.mask ? { mask: Buffer.from(v.mask).toString('base64') } : {}),
      ...(v.units ? { units: v.units } : {}),
      ...(v.time ? { time: v.time } : {}),
    };
  }
  return out;
}

export async function saveEntry(state: ServerState, params: SaveEntryParams, _token: CancellationToken): Promise<SaveEntryResult> {
  const modelFile = state.resolveModel(params.model);
  const root = rootOf(state, modelFile);
  if (!root) throw new LensError('BAD_INPUT', `${modelFile} is not in a workspace folder: an entry is saved in the lrp-lens.json of the model's folder`, { file: modelFile });
  const projectFile = params.project ? state.toPath(params.project, 'project file') : state.projectFileFor(modelFile) ?? resolve(root, PROJECT_FILE);
  const dir = dirname(projectFile);
  const draft = confineDraft(state, params.entry, dir);
  const r = await writeEntry({ modelFile, draft: draft as DraftEntry, projectFile, root });
  // Validate the file again now (diagnostics point at the new entry) and re-analyze its models.
  onFsEvent(state, r.project);
  return r;
}
