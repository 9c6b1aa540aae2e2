/** The training script's metrics file (samples/models/metrics.json): held-out accuracy per model. */
import { LensError } from '../errors.js';
import { readRegular } from '../data/regular-file.js';

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
    // Only a regular file of bounded size: a FIFO or device named metrics.json must not hang the report.
    text = new TextDecoder().decode(await readRegular(file, 'textBytes'));
  } catch (e) {
    if (e instanceof LensError && e.code === 'FILE_NOT_FOUND') return new Map();
    throw e;
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
