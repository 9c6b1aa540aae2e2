/**
 * Which ONNX Runtime execution provider runs the LRP graph: the CPU provider (`onnxruntime`), the WebGPU
 * provider bundled in onnxruntime-node's Linux/Windows/macOS builds (`onnxruntime-webgpu`: needs a GPU
 * adapter through Vulkan, Metal or D3D12), or the CUDA provider (`onnxruntime-cuda`: an optional download
 * of onnxruntime-node's installer, plus the NVIDIA driver, CUDA 12 and cuDNN 9).
 * A GPU provider is proven by running a one-node graph on it when the backend is chosen: one that cannot
 * start is BACKEND_UNAVAILABLE saying why, as the tfjs GPU backends are, never a silent CPU run. (ORT
 * itself places single nodes a provider lacks kernels for on the CPU; that is ORT's documented behaviour.)
 * The choice is per thread (backend.ts sets it with the backend); sessions are cached per provider.
 */
import { LensError } from '../errors.js';
import { useBackend, type BackendName } from '../backend.js';
import { GraphWriter } from './graph-writer.js';
import { loadOrt, type Ort } from './ort-load.js';

export type OrtProvider = 'cpu' | 'webgpu' | 'cuda';

/** The backend names (core/names.ts) that run LRP on ONNX Runtime, and their provider. */
export const ORT_BACKEND_PROVIDERS: Readonly<Record<'onnxruntime' | 'onnxruntime-webgpu' | 'onnxruntime-cuda', OrtProvider>> = Object.freeze({
  onnxruntime: 'cpu',
  'onnxruntime-webgpu': 'webgpu',
  'onnxruntime-cuda': 'cuda',
});

export type OrtBackendName = keyof typeof ORT_BACKEND_PROVIDERS;

export function isOrtBackend(name: string): name is OrtBackendName {
  return Object.prototype.hasOwnProperty.call(ORT_BACKEND_PROVIDERS, name);
}

let current: OrtProvider = 'cpu';

/** The provider new sessions of this thread use. */
export function ortProvider(): OrtProvider {
  return current;
}

export function setOrtProvider(p: OrtProvider): void {
  current = p;
}

const HINTS: Record<Exclude<OrtProvider, 'cpu'>, string> = {
  webgpu: "backend 'onnxruntime-webgpu' found no GPU adapter (no GPU, or no Vulkan/Metal/D3D12 driver such as libvulkan.so.1); use --backend onnxruntime or wasm",
  cuda: "backend 'onnxruntime-cuda' needs ONNX Runtime's CUDA provider (libonnxruntime_providers_cuda.so, an optional download: ONNXRUNTIME_NODE_INSTALL_CUDA=v12 npm rebuild onnxruntime-node), the NVIDIA driver, CUDA 12 and cuDNN 9; use --backend onnxruntime or wasm",
};

/** A one-node float graph (Relu over [1, 4]): enough to make a provider start its device. */
function probeGraph(): Uint8Array {
  const w = new GraphWriter();
  const x = w.reserve('x');
  const y = w.reserve('y');
  w.opInto('Relu', [x], y);
  return w.encode('lrp_lens_provider_probe', [{ name: x, dims: [1, 4] }], [{ name: y, dims: [1, 4] }], {});
}

const probed = new Map<OrtProvider, Promise<void>>();

/**
 * Start the provider once per thread (a failure is remembered: a missing GPU is not probed again).
 * `ort` lets tests hand in a stand-in runtime.
 */
export function probeProvider(p: OrtProvider, ort?: Ort): Promise<void> {
  if (p === 'cpu') return loadOrt().then(() => undefined);
  let r = probed.get(p);
  if (!r || ort) {
    r = (async () => {
      const rt = ort ?? (await loadOrt());
      let session: Awaited<ReturnType<Ort['InferenceSession']['create']>> | undefined;
      try {
        session = await rt.InferenceSession.create(probeGraph(), { executionProviders: [p], logSeverityLevel: 4 });
        await session.run({ x: new rt.Tensor('float32', new Float32Array([-1, 0, 1, 2]), [1, 4]) });
      } catch (e) {
        const why = (e as Error).message.split('\n')[0].replace(/^.*\] /, '').slice(0, 300);
        throw new LensError('BACKEND_UNAVAILABLE', `${HINTS[p]} (ONNX Runtime: ${why})`);
      } finally {
        await session?.release().catch(() => undefined);
      }
    })();
    if (!ort) probed.set(p, r);
  }
  return r;
}

/**
 * Select the compute engine by its backend name: this thread's ONNX Runtime provider (a GPU one only when
 * asked for by name, proven to start here) and the tfjs backend under it (backend.ts). Returns tfjs's name.
 */
export async function useEngine(name: BackendName = 'wasm'): Promise<string> {
  const provider = isOrtBackend(name) ? ORT_BACKEND_PROVIDERS[name] : 'cpu';
  if (provider !== 'cpu') await probeProvider(provider);
  setOrtProvider(provider);
  return useBackend(name);
}
