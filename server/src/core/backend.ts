/**
 * Compute backend selection. `wasm` ships with the package and is the default; `cpu` is pure JS;
 * `tensorflow` / `tensorflow-gpu` need the optional @tensorflow/tfjs-node(-gpu) packages, whose install
 * downloads a binary; `webgpu` needs the optional @tensorflow/tfjs-backend-webgpu and `webgpu` (Dawn's
 * Node binding, binaries in the package) and a GPU adapter (Vulkan, Metal or D3D12).
 * Asking for a backend that cannot run is a BACKEND_UNAVAILABLE error saying why, never a silent
 * fallback; `auto` tries the GPU backends first, then wasm, then cpu, and says which it picked and why.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { LensError } from './errors.js';
import type { BackendName } from './names.js';
// Declared beside the availability probe, which the language server's main thread loads without tfjs.
import { BACKEND_PACKAGES } from './backend-availability.js';

export type { BackendName } from './names.js';
export { BACKEND_PACKAGES };

/** The GPU backends `auto` tries, in order. */
export const GPU_BACKENDS: BackendName[] = ['tensorflow-gpu', 'webgpu'];

export interface BackendChoice {
  requested: BackendName;
  /** Our name of the backend in use (never 'auto'). */
  used: Exclude<BackendName, 'auto'>;
  /** tfjs's name of it. */
  tfjs: string;
  /** Why `auto` did not pick each backend it tried before the one in use. */
  skipped: { backend: BackendName; reason: string }[];
}

let current: string | undefined;
let choice: BackendChoice | undefined;
/** Result of making each backend ready (a failed GPU probe is not repeated). */
const probed = new Map<string, LensError | undefined>();

/** What the last useBackend call selected (undefined before the first). */
export function backendChoice(): BackendChoice | undefined {
  return choice;
}

/**
 * Make `name` the active tfjs backend (once per process unless the name changes). Returns the tfjs name.
 * Front ends call useEngine (lrp-onnx/ort-providers.ts), which also starts the ONNX Runtime provider an
 * `onnxruntime*` name asks for.
 */
export async function useBackend(name: BackendName = 'wasm'): Promise<string> {
  // The ONNX Runtime provider is chosen above this layer (lrp-onnx/ort-providers.ts useEngine, which calls
  // this): the base layer does not load onnxruntime.
  if (name === 'auto') {
    const skipped: BackendChoice['skipped'] = [];
    for (const b of [...GPU_BACKENDS, 'wasm', 'cpu'] as TfjsBackend[]) {
      try {
        const t = await activate(b);
        choice = { requested: 'auto', used: b, tfjs: t, skipped };
        return t;
      } catch (e) {
        skipped.push({ backend: b, reason: (e as Error).message });
      }
    }
    throw new LensError('BACKEND_UNAVAILABLE', `no backend could start: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`);
  }
  // ONNX Runtime runs the LRP graph; the tfjs engine under it (wasm) runs forward passes, baselines and
  // models that do not lower (core/session/explain-batch.ts decides per model).
  const t = await activate(name.startsWith('onnxruntime') ? 'wasm' : (name as TfjsBackend));
  choice = { requested: name, used: name, tfjs: t, skipped: [] };
  return t;
}

/** Whether LRP should run on ONNX Runtime: asked for by name, or by 'auto' (tried, with a fallback). */
export function prefersOnnxRuntime(): boolean {
  const c: string | undefined = choice?.requested;
  return c === 'onnxruntime' || c === 'onnxruntime-webgpu' || c === 'onnxruntime-cuda' || c === 'auto';
}

/** The backends tfjs itself runs (the ONNX Runtime ones put tfjs-wasm under the LRP graph). */
type TfjsBackend = Exclude<BackendName, 'auto' | 'onnxruntime' | 'onnxruntime-webgpu' | 'onnxruntime-cuda'>;

async function activate(wanted: TfjsBackend): Promise<string> {
  if (current === wanted && tf.getBackend() === tfName(wanted)) return tfName(wanted);
  const failed = probed.get(wanted);
  if (failed) throw failed;
  try {
    if (wanted === 'webgpu') await prepareWebGpu();
    else if (wanted in BACKEND_PACKAGES) await importPackage(wanted, BACKEND_PACKAGES[wanted]);
    const ok = await tf.setBackend(tfName(wanted)).catch((e: Error) => {
      throw new LensError('BACKEND_UNAVAILABLE', `backend '${wanted}' did not initialise: ${e.message.split('\n')[0]}`);
    });
    if (!ok) throw new LensError('BACKEND_UNAVAILABLE', `backend '${wanted}' did not initialise`);
    await tf.ready();
    if (wanted === 'tensorflow-gpu') checkCudaDevice();
  } catch (e) {
    const err = e instanceof LensError ? e : new LensError('BACKEND_UNAVAILABLE', `backend '${wanted}' failed: ${(e as Error).message}`);
    // A GPU that is not there stays absent for this process; do not probe it on every call.
    if (wanted === 'webgpu' || wanted === 'tensorflow-gpu') probed.set(wanted, err);
    throw err;
  }
  current = wanted;
  return tf.getBackend();
}

async function importPackage(backend: string, pkg: string): Promise<unknown> {
  try {
    return await import(pkg);
  } catch (e) {
    throw new LensError('BACKEND_UNAVAILABLE', `backend '${backend}' needs the package ${pkg}, which is not installed or did not load (${(e as Error).message.split('\n')[0]}); install it with: npm install ${pkg}`);
  }
}

/**
 * WebGPU under Node: Dawn's binding (`webgpu`) provides navigator.gpu and the GPU* globals the tfjs
 * backend expects. No adapter (no GPU, no Vulkan/Metal/D3D12 driver) is BACKEND_UNAVAILABLE.
 */
async function prepareWebGpu(): Promise<void> {
  const mod = (await importPackage('webgpu', 'webgpu')) as { create: (opts: string[]) => GpuLike; globals: Record<string, unknown> };
  const g = globalThis as unknown as { navigator?: { gpu?: GpuLike } };
  if (!g.navigator?.gpu) {
    Object.assign(globalThis, mod.globals);
    const gpu = mod.create([]);
    if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  }
  const adapter = await g.navigator!.gpu!.requestAdapter().catch(() => null);
  if (!adapter) {
    throw new LensError('BACKEND_UNAVAILABLE', "backend 'webgpu' found no GPU adapter (no GPU, or no Vulkan/Metal/D3D12 driver such as libvulkan.so.1); use --backend wasm or cpu");
  }
  await importPackage('webgpu', BACKEND_PACKAGES.webgpu);
}

interface GpuLike {
  requestAdapter(): Promise<unknown>;
}

/** tfjs-node-gpu runs on the CPU when CUDA/cuDNN do not load: that is not the GPU that was asked for. */
function checkCudaDevice(): void {
  const binding = (tf.backend() as unknown as { binding?: { isUsingGpuDevice?: () => boolean } }).binding;
  if (binding?.isUsingGpuDevice && !binding.isUsingGpuDevice()) {
    throw new LensError('BACKEND_UNAVAILABLE', "backend 'tensorflow-gpu' loaded but TensorFlow found no CUDA GPU (check the NVIDIA driver, CUDA and cuDNN versions); use --backend tensorflow, wasm or cpu");
  }
}

function tfName(name: string): string {
  return name === 'tensorflow' || name === 'tensorflow-gpu' ? 'tensorflow' : name;
}

export { tf };
