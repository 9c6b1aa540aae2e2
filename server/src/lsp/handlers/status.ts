/** lrpLens/status (server -> client): the backend, the running jobs, how many models and how many with errors. */
import { Notification } from '../../protocol.js';
import type { ServerState } from '../state.js';

export function sendStatus(state: ServerState): void {
  const { settings, activeBackend } = state;
  const models = [...state.models.values()];
  state.notify(Notification.status, {
    backend: activeBackend && settings.backend === 'auto' ? `auto (${activeBackend})` : settings.backend,
    running: [...state.jobs.entries()].map(([jobId, j]) => ({ jobId, kind: j.kind, model: j.model })),
    models: models.length,
    withErrors: models.filter((m) => m.summary.state === 'error' || m.summary.findings.some((f) => f.severity === 'error')).length,
    trusted: state.trusted,
  });
}
