// Worker bootstrap for running from TypeScript sources (tests under tsx): Node 20 does not pass the
// tsx loader on to worker threads, so register it here, then load the real worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
