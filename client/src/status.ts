/**
 * The status bar item: compute backend and running jobs; a click selects the backend. It keeps the
 * server's last status, the one source of the active backend and of which backends can run here, for
 * the backend picker and the panel.
 */
import * as vscode from 'vscode';
import type { BackendAvailability, StatusParams } from '../../server/src/protocol.js';
import type { BackendName } from '../../server/src/core/names.js';

/** The server's last status (undefined before the first). */
let last: StatusParams | undefined;
const changed = new vscode.EventEmitter<StatusParams>();

/** Fires on every status from the server. */
export const onStatus = changed.event;

/** The backends that can run here (all of `names` until the server has probed). */
export function availableBackends(names: readonly BackendName[]): BackendName[] {
  const probed = last?.backends;
  if (!probed) return [...names];
  const ok = new Set(probed.filter((b) => b.available).map((b) => b.name));
  return names.filter((n) => ok.has(n));
}

/** What the server said about one backend, once probed. */
export function backendInfo(name: string): BackendAvailability | undefined {
  return last?.backends?.find((b) => b.name === name);
}

export class StatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('lrpLens.status', vscode.StatusBarAlignment.Right, 100);

  constructor() {
    this.item.name = 'LRP Lens';
    this.item.command = 'lrpLens.selectBackend';
    // Until the server's first status: the setting, marked as not yet confirmed.
    this.render({ backend: String(vscode.workspace.getConfiguration('lrpLens').get('backend') ?? 'auto'), running: [], models: 0, withErrors: 0, trusted: vscode.workspace.isTrusted });
    this.item.show();
  }

  update(s: StatusParams): void {
    last = s;
    this.render(s);
    changed.fire(s);
  }

  private render(s: StatusParams): void {
    const jobs = s.running.filter((j) => j.kind !== 'analyze');
    const busy = s.running.length > 0;
    this.item.text = `${busy ? '$(sync~spin)' : '$(flame)'} LRP ${s.backend}${jobs.length ? ` · ${jobs.length} job${jobs.length > 1 ? 's' : ''}` : ''}`;
    const missing = s.backends?.filter((b) => !b.available).map((b) => b.name) ?? [];
    const lines = [
      `LRP Lens: backend ${s.backend}${s.trusted ? '' : ' (untrusted workspace: static checks only)'}`,
      `${s.models} model file(s), ${s.withErrors} with errors`,
      ...s.running.map((j) => `${j.kind}: ${vscode.workspace.asRelativePath(j.model)}`),
      ...(missing.length ? [`Not available in this installation: ${missing.join(', ')}`] : []),
      'Click to select the compute backend',
    ];
    this.item.tooltip = lines.join('\n');
  }

  dispose(): void {
    this.item.dispose();
  }
}

/** What each backend is, shown in the picker (the names: core/names.ts). */
const BACKEND_DETAIL: Record<BackendName, string> = {
  auto: 'ONNX Runtime where the model lowers, else a tfjs backend (GPU, wasm, cpu)',
  onnxruntime: 'LRP as one ONNX graph on ONNX Runtime (CPU); tfjs-wasm for what does not lower',
  'onnxruntime-webgpu': "the LRP graph on ONNX Runtime's WebGPU provider (a GPU through Vulkan, Metal or D3D12)",
  'onnxruntime-cuda': "the LRP graph on ONNX Runtime's CUDA provider (NVIDIA GPU)",
  wasm: 'WebAssembly (ships with the extension)',
  cpu: 'plain JavaScript (slow, always there)',
  tensorflow: 'TensorFlow through @tensorflow/tfjs-node (CPU)',
  'tensorflow-gpu': 'TensorFlow through @tensorflow/tfjs-node-gpu (CUDA)',
  webgpu: 'tfjs on WebGPU (@tensorflow/tfjs-backend-webgpu)',
};

type BackendItem = vscode.QuickPickItem & { name?: BackendName; info?: BackendAvailability };

/** The picker's items: what can run here first; the rest after a separator, each saying why not and how to get it. */
export function backendItems(names: readonly BackendName[], current: string): BackendItem[] {
  const ok = new Set(availableBackends(names));
  const item = (name: BackendName): BackendItem => {
    const info = backendInfo(name);
    return ok.has(name)
      ? { label: name, name, description: name === current ? '(current)' : '', detail: BACKEND_DETAIL[name] }
      : { label: `$(circle-slash) ${name}`, name, info, description: `not available${name === current ? ' (current setting)' : ''}: ${info?.reason ?? ''}`, detail: info?.howTo ? `To get it: ${info.howTo}` : BACKEND_DETAIL[name] };
  };
  const items = names.filter((n) => ok.has(n)).map(item);
  const rest = names.filter((n) => !ok.has(n));
  if (rest.length) items.push({ label: 'Not available in this installation', kind: vscode.QuickPickItemKind.Separator }, ...rest.map(item));
  return items;
}

/** lrpLens.selectBackend: set one that can run; picking one that cannot says how to get it instead. */
export async function selectBackend(names: readonly BackendName[]): Promise<void> {
  const cfg = vscode.workspace.getConfiguration('lrpLens');
  const current = cfg.get<string>('backend', 'auto');
  const pick = await vscode.window.showQuickPick(backendItems(names, current), { title: 'LRP Lens: compute backend', matchOnDescription: true });
  if (!pick?.name) return;
  if (pick.info && !pick.info.available) {
    void vscode.window.showInformationMessage(`LRP Lens: '${pick.name}' cannot run in this installation: ${pick.info.reason ?? 'not available'}.${pick.info.howTo ? ` To get it: ${pick.info.howTo}.` : ''}`);
    return;
  }
  await cfg.update('backend', pick.name, vscode.ConfigurationTarget.Workspace);
}
