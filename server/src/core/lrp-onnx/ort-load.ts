/** onnxruntime-node, loaded once per thread; BACKEND_UNAVAILABLE when its binary does not load. */
import { LensError } from '../errors.js';

export type Ort = typeof import('onnxruntime-node');

let ortModule: Promise<Ort> | undefined;

export function loadOrt(): Promise<Ort> {
  ortModule ??= import('onnxruntime-node')
    .then((m) => ((m as unknown as { default?: Ort }).default ?? m) as Ort)
    .catch((e: Error) => {
      ortModule = undefined;
      throw new LensError('BACKEND_UNAVAILABLE', `backend 'onnxruntime' did not load: ${e.message.split('\n')[0]}`, { hint: 'reinstall onnxruntime-node, or use --backend wasm' });
    });
  return ortModule;
}
