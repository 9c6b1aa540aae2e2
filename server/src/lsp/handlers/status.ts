/**
 * lrpLens/status (server -> client): the backend, the running jobs, how many models and how many with
 * errors, and which backends can run here. The one source of the active backend for the status bar and
 * the panel alike.
 */
import { NODE_PROBE, probeBackends, type BackendAvailability, type ProbeEnv } from '../../core/backend-availability.js';
import { Notification, type StatusParams } from '../../protocol.js';
import type { ServerState } from '../state.js';

/** The probe's answer, once per process (packages are not installed while the server runs). */
let backends: BackendAvailability[] | undefined;
let probing: Promise<BackendAvailability[]> | undefined;
/** A status is due when the probe answers. */
let waiting = false;

/** The probe with ONNX Runtime's GPU providers started for real (a one-node graph each). */
const SERVER_PROBE: ProbeEnv = {
  ...NODE_PROBE,
  startOrtProvider: async (p) => (await import('../../core/lrp-onnx/ort-providers.js')).probeProvider(p),
};

/** Which backends can run here; probed on the first call, then the same answer. */
export function backendAvailability(env: ProbeEnv = SERVER_PROBE): Promise<BackendAvailability[]> {
  probing ??= probeBackends(env).then((b) => (backends = b));
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
  // The first status goes out at once; the availability follows when the probe answers (ONNX Runtime's
  // binding and a WebGPU adapter take a few hundred milliseconds to ask).
  if (backends || waiting) return;
  waiting = true;
  void backendAvailability().then(() => sendStatus(state), () => undefined);
}
