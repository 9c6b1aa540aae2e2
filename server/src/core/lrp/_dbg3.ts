import { GraphBuilder, randomArray, rng } from './test-graphs.js';
import { useBackend } from '../compute/backend.js';
import { LrpExplainer } from './engine.js';
const b = new GraphBuilder(rng(3), [null, 5, 7, 6, 2]);
b.conv(3, 2, [3, 2, 3], { strides: [2, 1, 2], padding: 'same', activation: { name: 'relu' } });
b.conv(4, 3, [2, 2, 2], { padding: 'valid' , activation: { name: 'relu' }});
b.pool('max', [2, 2, 2], 'same');
b.flatten();
const g0 = b.build('c3');
const units = g0.nodes[g0.nodes.length-1].outputShape[1] as number;
b.dense(2, units);
const g = b.build('c3');
const x = { shape: [2, 5, 7, 6, 2], data: randomArray(840, rng(4)), dtype: 'f4' as const };
for (const be of ['cpu', 'wasm'] as const) {
  await useBackend(be);
  for (const mode of ['fast', 'grad'] as const) {
    const e = new LrpExplainer(g, { composite: 'epsilon-gamma-box', low: -1, high: 1, mode }).explain(x, { target: { type: 'index', index: 0 } });
    const r = e.relevance.data as Float32Array;
    console.log(be, mode, r.slice(0, 4), r.reduce((a, v) => a + v, 0));
  }
}
