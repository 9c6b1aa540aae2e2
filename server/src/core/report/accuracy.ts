/**
 * Held-out accuracy recomputed the way the sample script measures it: the project's pipeline, the
 * test years, arg-max of the model output against the label's output index.
 */
import type { ModelGraph } from '../model/graph.js';
import type { ModelInput } from '../data/pipeline.js';
import { predict } from '../model/execute.js';
import { LensError } from '../errors.js';
import { classOutputs } from './classes.js';

/** 'YYYY-YYYY' (as metrics.json writes it) to an inclusive year range. */
export function parseYears(range: string): [number, number] {
  const m = /^(\d{4})\s*-\s*(\d{4})$/.exec(range.trim());
  if (!m) throw new LensError('CONFIG_ERROR', `a year range must look like 2011-2018, got '${range}'`);
  return [Number(m[1]), Number(m[2])];
}

export interface Accuracy {
  accuracy: number;
  /** Samples counted (those in the years whose class has an output). */
  n: number;
}

export function accuracyInYears(graph: ModelGraph, input: ModelInput, years: [number, number]): Accuracy {
  if (!input.labels || !input.times) throw new LensError('CONFIG_ERROR', 'accuracy needs labels and dated samples');
  const per = input.x.shape.slice(1).reduce((a, b) => a * b, 1);
  const idx: number[] = [];
  input.times.forEach((t, i) => {
    const y = Number(t.slice(0, 4));
    if (y >= years[0] && y <= years[1]) idx.push(i);
  });
  const x = new Float32Array(idx.length * per);
  idx.forEach((s, k) => x.set(input.x.data.subarray(s * per, (s + 1) * per), k * per));
  const out = predict(graph, { shape: [idx.length, ...input.x.shape.slice(1)], data: x, dtype: 'f4' });
  const k = out.shape[1] ?? 1;
  const map = classOutputs(input.classNames, k, Math.max(...input.labels) + 1);
  let ok = 0;
  let n = 0;
  const o = out.data as Float32Array;
  idx.forEach((s, j) => {
    const want = map[input.labels![s]]?.output ?? -1;
    if (want < 0) return;
    n++;
    let best = 0;
    for (let c = 1; c < k; c++) if (o[j * k + c] > o[j * k + best]) best = c;
    if (best === want) ok++;
  });
  return { accuracy: n ? ok / n : NaN, n };
}
