/** One model fuzz case: load the file and, when its input is small, run it on zeros. */
import { loadModel } from '../core/model/load.js';
import { predict } from '../core/model/execute.js';

/** Load `path`; also run it on zeros when its one input has at most `runBelow` values per sample. */
export async function loadAndRun(path: string, runBelow: number): Promise<'loaded' | 'ran'> {
  const g = await loadModel(path);
  const spec = g.inputs[0].fileShape;
  const size = spec.slice(1).reduce<number>((a, d) => a * (d ?? 1 << 30), 1);
  if (g.inputs.length === 1 && size <= runBelow) {
    predict(g, { shape: [1, ...spec.slice(1).map((d) => d as number)], data: new Float32Array(size), dtype: 'f4' });
    return 'ran';
  }
  return 'loaded';
}
