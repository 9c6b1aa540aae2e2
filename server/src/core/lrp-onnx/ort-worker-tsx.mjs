// Bootstrap for running the ORT worker from the TypeScript sources (tests, tsx): Node 20 does not pass
// the tsx loader on to worker threads, so register it here, then load the real worker.
import { register } from 'tsx/esm/api';

register();
await import('./ort-worker.ts');
