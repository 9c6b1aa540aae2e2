/**
 * lrpLens/status (server -> client): the backend, the running jobs, how many models and how many with
 * errors, and which backends can run here. The one source of the active backend for the status bar and
 * the panel alike.
 */
import type { BackendAvailability } from '../../core/backend-availability.js';
import { Notification, type StatusParams } from '../../protocol.js';
import type { ServerState } from '../state.js';

/** The probe's answer, once per process (packages are not installed while the server runs). */
let backends: BackendAvailability[] | undefined;
let probing: Promise<BackendAvailability[]> | undefined;
/** A status is due when the probe answers. */
let waiting = false;

/** Which backends can run here: probed once on a worker (it loads ONNX Runtime and asks for GPU adapters). */
export function backendAvailability(state: ServerState): Promise<BackendAvailability[]> {
  probing ??= state.workers.run<BackendAvailability[]>('probeBackends', {}).promise.then((b) => (backends = b));
  return probing;
}

export function statusOf(state: ServerState): StatusParams {
  const { settings, activeBackend } = state;
  const models = [...state.models.values()];
  const s: StatusParams = {
    backend: activeBackend && settings.backend === 'auto' ? `auto (${activeBackend})` : settings.backend,
    running: [...state.jobs.entries()].map(([jobId, j]) => ({ jobId, kind: j.kind, model: j.model })),
    models: models.length,
    withErrors: models.filter((m) => m.summary.state === 'error' || m.summary.findings.some((f) => f.severity === 'error')).length,
    trusted: state.trusted,
  };
  if (backends) s.backends = backends;
  return s;
}

export function sendStatus(state: ServerState): void {
  state.notify(Notification.status, statusOf(state));
  // The first status goes out at once; the availability follows when the worker's probe answers (ONNX
  // Runtime's binding and a WebGPU adapter take about a second to ask).
  if (backends || waiting) return;
  waiting = true;
  void backendAvailability(state).then(() => sendStatus(state), () => undefined);
}
