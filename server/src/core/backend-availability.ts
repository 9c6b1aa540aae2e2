/**
 * Which compute backends can run in this installation, for the pickers (the status bar's quick pick and
 * the panel): wasm and cpu ship with the package; onnxruntime is tried (its native binary may not load
 * on this platform); tensorflow, tensorflow-gpu and webgpu count only when their optional packages are
 * installed, and webgpu only with a GPU adapter. Asking for one that cannot run still fails at use with
 * BACKEND_UNAVAILABLE (backend.ts); this only keeps the pickers from offering it.
 */
import { BACKEND_NAMES, type BackendName } from './names.js';
import { ownTable } from './own-table.js';

/** The optional packages each tfjs backend needs (backend.ts imports them when asked for). */
export const BACKEND_PACKAGES: Readonly<Record<string, string>> = ownTable({
  tensorflow: '@tensorflow/tfjs-node',
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
});

export interface BackendAvailability {
  name: BackendName;
  available: boolean;
  reason?: string;
  howTo?: string;
}

/** How each optional backend is obtained (shown next to an unavailable one). */
const HOW_TO: Partial<Record<BackendName, string>> = {
  onnxruntime: 'reinstall the extension (onnxruntime-node ships with it) on a platform ONNX Runtime supports (x64/arm64 Linux, macOS, Windows)',
  tensorflow: `install ${BACKEND_PACKAGES.tensorflow} next to the extension (npm install ${BACKEND_PACKAGES.tensorflow} in its folder) and reload the window`,
  'tensorflow-gpu': `install ${BACKEND_PACKAGES['tensorflow-gpu']} next to the extension (npm install ${BACKEND_PACKAGES['tensorflow-gpu']} in its folder), with an NVIDIA driver, CUDA and cuDNN, and reload the window`,
  'onnxruntime-webgpu': 'a machine with a GPU and a Vulkan, Metal or D3D12 driver (the WebGPU provider ships inside onnxruntime-node)',
  'onnxruntime-cuda': "ONNX Runtime's CUDA provider (ONNXRUNTIME_NODE_INSTALL_CUDA=v12 npm rebuild onnxruntime-node in the extension's folder), the NVIDIA driver, CUDA 12 and cuDNN 9",
  webgpu: `install ${BACKEND_PACKAGES.webgpu} and webgpu next to the extension (npm install ${BACKEND_PACKAGES.webgpu} webgpu in its folder), on a machine with a GPU and a Vulkan, Metal or D3D12 driver, and reload the window`,
};

/** What the probe asks of the environment (tests pass their own; the default asks Node). */
export interface ProbeEnv {
  /** Whether a package resolves from here. */
  hasPackage(name: string): boolean;
  /** Load ONNX Runtime's binding; rejects when it does not load. */
  loadOnnxRuntime(): Promise<unknown>;
  /** Start an ONNX Runtime GPU provider (lrp-onnx/ort-providers.ts); rejects saying why it cannot. */
  startOrtProvider?(provider: 'webgpu' | 'cuda'): Promise<unknown>;
  /** Whether WebGPU finds an adapter (only asked when its packages are present). */
  hasGpuAdapter(): Promise<boolean>;
}

export const NODE_PROBE: ProbeEnv = {
  hasPackage(name) {
    try {
      import.meta.resolve(name);
      return true;
    } catch {
      return false;
    }
  },
  loadOnnxRuntime: () => import('onnxruntime-node'),
  // startOrtProvider: lrp-onnx sits above this module; the language server passes it in (handlers/status.ts).
  async hasGpuAdapter() {
    const mod = (await import('webgpu')) as { create: (opts: string[]) => { requestAdapter(): Promise<unknown> } };
    return !!(await mod.create([]).requestAdapter().catch(() => null));
  },
};

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/** Every backend name with whether it can run here, in BACKEND_NAMES order. */
export async function probeBackends(env: ProbeEnv = NODE_PROBE): Promise<BackendAvailability[]> {
  const out: BackendAvailability[] = [];
  const no = (name: BackendName, reason: string) => out.push({ name, available: false, reason, howTo: HOW_TO[name] });
  for (const name of BACKEND_NAMES) {
    if (name === 'auto' || name === 'wasm' || name === 'cpu') {
      out.push({ name, available: true });
    } else if (name === 'onnxruntime') {
      try {
        await env.loadOnnxRuntime();
        out.push({ name, available: true });
      } catch (e) {
        no(name, `onnxruntime-node did not load: ${firstLine(e)}`);
      }
    } else if (name === 'onnxruntime-webgpu' || name === 'onnxruntime-cuda') {
      const provider = name === 'onnxruntime-webgpu' ? 'webgpu' : 'cuda';
      try {
        if (!env.startOrtProvider) throw new Error('not probed');
        await env.startOrtProvider(provider);
        out.push({ name, available: true });
      } catch (e) {
        no(name, firstLine(e));
      }
    } else if (name === 'webgpu') {
      const missing = [BACKEND_PACKAGES.webgpu, 'webgpu'].filter((p) => !env.hasPackage(p));
      if (missing.length) no(name, `needs ${missing.join(' and ')}, not installed`);
      else if (!(await env.hasGpuAdapter().catch(() => false))) no(name, 'no GPU adapter (no GPU, or no Vulkan/Metal/D3D12 driver)');
      else out.push({ name, available: true });
    } else {
      const pkg = BACKEND_PACKAGES[name];
      if (env.hasPackage(pkg)) out.push({ name, available: true });
      else no(name, `needs ${pkg}, not installed`);
    }
  }
  return out;
}
