/**
 * The fuzz tests' shared harness: seeded mutations (byte flips, truncation, JSON fields deleted or
 * retyped), one case run and classified (its outcome, a LensError's code, or another error; with the CPU
 * time it took), the tally and failures every fuzz test reports, and a pool of one worker that can stop a
 * case that hangs (a synchronous loop cannot be timed out from its own thread).
 */
import { Worker } from 'node:worker_threads';
import { LensError } from '../core/errors.js';

export type Rand = () => number;

export function pick<T>(rand: Rand, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)];
}

/** Flip 1-8 bytes; with `headerBias`, most of them among the first 2 KB (headers: where the declared work is). */
export function flipBytes(rand: Rand, b: Uint8Array, headerBias = false): Uint8Array {
  const out = Uint8Array.from(b);
  const n = 1 + Math.floor(rand() * 8);
  for (let i = 0; i < n; i++) {
    const span = headerBias && rand() < 0.7 ? Math.min(out.length, 2048) : out.length;
    out[Math.floor(rand() * span)] ^= 1 + Math.floor(rand() * 255);
  }
  return out;
}

/** The bytes cut at a random length. */
export function truncate(rand: Rand, b: Uint8Array): Uint8Array {
  return b.subarray(0, Math.floor(rand() * b.length));
}

/** Paths to every value in a JSON tree. */
export function jsonPaths(v: unknown, at: (string | number)[] = [], acc: (string | number)[][] = []): (string | number)[][] {
  if (v && typeof v === 'object') {
    for (const [k, c] of Object.entries(v)) {
      const p = [...at, Array.isArray(v) ? Number(k) : k];
      acc.push(p);
      jsonPaths(c, p, acc);
    }
  }
  return acc;
}

/** Delete a random field of a parsed JSON document (in place) or give it one of `retype`'s values. */
export function deleteOrRetype(rand: Rand, doc: object, retype: readonly unknown[]): void {
  const p = pick(rand, jsonPaths(doc));
  let parent: any = doc;
  for (const k of p.slice(0, -1)) parent = parent[k];
  const key = p[p.length - 1];
  if (rand() < 0.4) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else parent[key] = pick(rand, retype);
}

/** How one case ended: `work`'s own outcome, or the error it threw. */
export interface CaseResult<O extends string> {
  outcome: O | 'lens-error' | 'other-error';
  code?: string;
  message?: string;
  /** CPU time of the case (user + system of the process; in a worker the main thread only waits meanwhile). */
  cpuMs: number;
}

/** Run one case and classify it, measuring its CPU time (CPU, not wall clock: the test machine is shared). */
export async function runCase<O extends string>(work: () => Promise<O>): Promise<CaseResult<O>> {
  const c0 = process.cpuUsage();
  let r: Omit<CaseResult<O>, 'cpuMs'>;
  try {
    r = { outcome: await work() };
  } catch (e) {
    if (e instanceof LensError) r = { outcome: 'lens-error', code: e.code, message: e.message };
    else r = { outcome: 'other-error', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
  const c = process.cpuUsage(c0);
  return { ...r, cpuMs: (c.user + c.system) / 1000 };
}

/** Outcomes counted by kind (a LensError by its code) and the failures: not a LensError, INTERNAL, over budget, hangs. */
export class FuzzTally {
  readonly failures: string[] = [];
  readonly counts = new Map<string, number>();

  add(label: string, r: CaseResult<string>, cpuLimitMs: number): void {
    if (r.cpuMs > cpuLimitMs) this.failures.push(`${label}: took ${r.cpuMs.toFixed(0)} ms of CPU (limit ${cpuLimitMs})`);
    const key = r.outcome === 'lens-error' ? (r.code as string) : r.outcome;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    if (r.outcome === 'other-error') this.failures.push(`${label}: not a LensError: ${r.message}`);
    else if (r.outcome === 'lens-error' && r.code === 'INTERNAL') this.failures.push(`${label}: INTERNAL: ${r.message}`);
  }

  /** A case a worker never answered. */
  lost(label: string, r: 'timeout' | 'crash', hangMs: number): void {
    this.failures.push(`${label}: ${r === 'timeout' ? `no answer within ${hangMs} ms (hang)` : 'the worker crashed'}`);
  }

  toString(): string {
    return JSON.stringify(Object.fromEntries(this.counts));
  }
}

/** The module `name` beside `caller` (an import.meta.url) in the caller's form: the .ts source under tsx, else the compiled .js. */
export function besideCaller(caller: string, name: string): URL {
  return new URL(`./${name}${new URL(caller).pathname.endsWith('.ts') ? '.ts' : '.js'}`, caller);
}

/**
 * A pool of one worker answering `{ id, ... }` requests with `{ id, ... }` replies. A request not answered
 * within its time is a hang: the worker is stopped, and the next request starts a new one.
 */
export class FuzzWorker<Req extends { id: number }, Reply extends { id: number }> {
  private worker: Worker | undefined;
  private nextId = 0;

  constructor(private readonly module: URL) {}

  send(req: Omit<Req, 'id'>, timeoutMs: number): Promise<Reply | 'timeout' | 'crash'> {
    this.worker ??= this.start();
    const w = this.worker;
    const id = this.nextId++;
    return new Promise((resolve) => {
      const done = (v: Reply | 'timeout' | 'crash') => {
        clearTimeout(timer);
        w.off('message', onMsg);
        w.off('error', onError);
        resolve(v);
      };
      const timer = setTimeout(() => {
        this.worker = undefined;
        void w.terminate();
        done('timeout');
      }, timeoutMs);
      const onMsg = (m: Reply) => {
        if (m.id === id) done(m);
      };
      const onError = () => {
        this.worker = undefined;
        done('crash');
      };
      w.on('message', onMsg);
      w.once('error', onError);
      w.postMessage({ id, ...req });
    });
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
  }

  /** The compiled worker directly; under tsx (running the .ts sources), register tsx in the worker first. */
  private start(): Worker {
    if (!this.module.pathname.endsWith('.ts')) return new Worker(this.module);
    const api = import.meta.resolve('tsx/esm/api');
    const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(this.module.href)}); })`;
    return new Worker(boot, { eval: true });
  }
}
