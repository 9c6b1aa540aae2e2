/**
 * Worker thread of the LRP pool (lrp-pool.ts): holds one explainer on its own tfjs backend (each thread
 * has its own wasm instance) and explains the shares of batches the pool sends it.
 * Messages in: {type:'init', graph, options, backend} then {type:'explain', id, x, options}.
 * Messages out: {type:'ready', backend} | {type:'result', id, explanation} | {type:'error', id?, error}.
 */
import { parentPort } from 'node:worker_threads';
import type { ModelGraph } from '../model/graph.js';
import type { NdArray } from '../array.js';
import { type BackendName, tf, useBackend } from '../backend.js';
import { type ExplainOptions, type ExplainerOptions, LrpExplainer } from '../lrp/engine.js';
import { LensError, type ErrorInfo } from '../errors.js';

type InMessage =
  | { type: 'init'; graph: ModelGraph; options: ExplainerOptions; backend: BackendName }
  | { type: 'explain'; id: number; x: NdArray; options: ExplainOptions };

const port = parentPort;
if (!port) throw new Error('lrp-worker.ts runs as a worker thread');
let explainer: LrpExplainer | undefined;

/** The error as its serialized form (hint included), so the pool rebuilds the same LensError. */
function errorOf(e: unknown): ErrorInfo {
  if (e instanceof LensError) return e.toJSON();
  return { code: 'INTERNAL', message: (e as Error)?.message ?? String(e) };
}

port.on('message', async (m: InMessage) => {
  try {
    if (m.type === 'init') {
      const backend = await useBackend(m.backend);
      explainer?.dispose();
      explainer = new LrpExplainer(m.graph, m.options);
      port.postMessage({ type: 'ready', backend });
    } else if (m.type === 'explain') {
      if (!explainer) throw new LensError('INTERNAL', 'LRP worker used before init');
      const t0 = performance.timeOrigin + performance.now();
      const explanation = explainer.explain(m.x, m.options);
      const t1 = performance.timeOrigin + performance.now();
      const buf = explanation.relevance.data.buffer as ArrayBuffer;
      // The relevance is the large part: hand its buffer over instead of copying it.
      const { numTensors, numBytes } = tf.memory();
      port.postMessage({ type: 'result', id: m.id, explanation, span: [t0, t1], memory: { numTensors, numBytes } }, [buf]);
    }
  } catch (e) {
    port.postMessage({ type: 'error', id: m.type === 'explain' ? m.id : undefined, error: errorOf(e) });
  }
});
