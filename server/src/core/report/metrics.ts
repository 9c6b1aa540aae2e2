/** The training script's metrics file (samples/models/metrics.json): held-out accuracy per model. */
import { readFile } from 'node:fs/promises';
import { LensError } from '../errors.js';

export interface ModelMetrics {
  name: string;
  purpose?: string;
  testAccuracy?: number;
  trainAccuracy?: number;
  testYears?: string;
  trainYears?: string;
  testMonths?: number;
  trainMonths?: number;
  /** Test accuracy of always answering the training years' most frequent class. */
  majorityBaseline?: number;
}

/** Metrics by model name; an empty map when the file does not exist. */
export async function readMetrics(file: string): Promise<Map<string, ModelMetrics>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return new Map();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new LensError('BAD_JSON', `${file}: ${(e as Error).message}`, { file });
  }
  const models = (parsed as { models?: unknown }).models;
  if (!Array.isArray(models)) throw new LensError('CONFIG_ERROR', `${file}: expected {"models": [...]}`, { file });
  const out = new Map<string, ModelMetrics>();
  for (const m of models) if (m && typeof m === 'object' && typeof (m as ModelMetrics).name === 'string') out.set((m as ModelMetrics).name, m as ModelMetrics);
  return out;
}
