/**
 * Compute backend selection. `wasm` ships with the package and is the default; `cpu` is pure JS;
 * `tensorflow` / `tensorflow-gpu` need the optional @tensorflow/tfjs-node(-gpu) packages, whose install
 * downloads a binary: when they are missing, asking for them is a clear error naming the package.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { LensError } from '../errors.js';

export type BackendName = 'auto' | 'wasm' | 'cpu' | 'tensorflow' | 'tensorflow-gpu' | 'webgpu';

export const BACKEND_PACKAGES: Record<string, string> = {
  tensorflow: '@tensorflow/tfjs-node',
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
};

let current: string | undefined;

/** Make `name` the active tfjs backend (once per process unless the name changes). Returns the tfjs name. */
export async function useBackend(name: BackendName = 'wasm'): Promise<string> {
  const wanted = name === 'auto' ? 'wasm' : name;
  if (current === wanted && tf.getBackend() === tfName(wanted)) return tfName(wanted);
  if (wanted in BACKEND_PACKAGES) {
    const pkg = BACKEND_PACKAGES[wanted];
    try {
      await import(pkg);
    } catch (e) {
      throw new LensError('BACKEND_UNAVAILABLE', `backend '${wanted}' needs the package ${pkg}, which is not installed or did not load (${(e as Error).message.split('\n')[0]}); install it with: npm install ${pkg}`);
    }
  }
  const ok = await tf.setBackend(tfName(wanted));
  if (!ok) throw new LensError('BACKEND_UNAVAILABLE', `backend '${wanted}' did not initialise`);
  await tf.ready();
  current = wanted;
  return tf.getBackend();
}

function tfName(name: string): string {
  return name === 'tensorflow' || name === 'tensorflow-gpu' ? 'tensorflow' : name;
}

export { tf };
