/**
 * What each cached result depends on, as typed records: the analysis cache's and the explain cache's
 * keys and their canonical strings.
 */
import { statSync } from 'node:fs';
import type { CompositeChoice, ExplainParams, LensSettings, SampleSelection } from '../protocol.js';

/** A static analysis: the file's content and the settings the checks read. */
export interface AnalysisKey {
  hash: string;
  composite: string;
  compositeParams: Record<string, number>;
  disabledChecks: string[];
  /** The lrp-lens.json whose entry may choose the composite (a changed file is another key). */
  projectFile: FileStamp | null;
}

export function analysisKey(hash: string, s: LensSettings, projectFile?: string): AnalysisKey {
  return { hash, composite: s.composite, compositeParams: s.compositeParams, disabledChecks: s.disabledChecks, projectFile: stamp(projectFile) };
}

export function analysisKeyString(k: AnalysisKey): string {
  return JSON.stringify([k.hash, k.composite, sortedEntries(k.compositeParams), [...k.disabledChecks].sort(), k.projectFile]);
}

/** Path, size and modification time (a changed data or project file is a different entry); the path alone when it cannot be read. */
export type FileStamp = string;

export function stamp(file: string | undefined): FileStamp | null {
  if (!file) return null;
  try {
    const st = statSync(file);
    return `${file}:${st.size}:${st.mtimeMs}`;
  } catch {
    return file;
  }
}

/** An explanation: the model's content, the resolved composite, the backend, the inputs' files, and the request's other fields. */
export interface ExplainKey {
  hash: string;
  composite: CompositeChoice;
  backend: string;
  samples: SampleSelection | null;
  target: NonNullable<ExplainParams['target']>;
  variant: ExplainParams['variant'] | null;
  layerShares: boolean;
  projectFile: FileStamp | null;
  data: FileStamp | null;
  /** Request fields not named above (ones added to ExplainParams later count without a change here). */
  rest: Record<string, unknown>;
}

/** Fields the key names itself, and fields that name the call rather than its result. */
const NOT_IN_REST = new Set(['model', 'jobId', 'workDoneToken', 'partialResultToken', 'composite', 'samples', 'target', 'variant', 'layerShares']);

export function explainKey(params: ExplainParams, k: Omit<ExplainKey, 'samples' | 'target' | 'variant' | 'layerShares' | 'rest' | 'data'>): ExplainKey {
  const rest: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(params)) if (!NOT_IN_REST.has(name) && v !== undefined) rest[name] = v;
  return {
    ...k,
    samples: params.samples ?? null,
    target: params.target ?? 'argmax',
    variant: params.variant ?? null,
    layerShares: params.layerShares !== false,
    data: stamp(params.samples?.data),
    rest,
  };
}

export function explainKeyString(k: ExplainKey): string {
  return JSON.stringify([k.hash, k.composite.name, sortedEntries(k.composite.params ?? {}), k.backend, k.samples, k.target, k.variant, k.layerShares, k.projectFile, k.data, sortedEntries(k.rest)]);
}

function sortedEntries(o: Record<string, unknown>): [string, unknown][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
