/**
 * A minimal LSP client over stdio for tests and measurements: starts `lrp-lens lsp --stdio` (from the
 * TypeScript sources under tsx, from out/ when compiled), records diagnostics and progress.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as rpc from 'vscode-jsonrpc/node';
import { REPO } from './paths.js';

export interface Diag {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  severity?: number;
  code?: string;
  source?: string;
  message: string;
  codeDescription?: { href: string };
  relatedInformation?: { location: { uri: string }; message: string }[];
  data?: { code?: string; error?: { code: string; message: string }; layer?: string };
}

export interface TestClient {
  conn: rpc.MessageConnection;
  proc: ChildProcess;
  /** Latest diagnostics per URI. */
  diagnostics: Map<string, Diag[]>;
  /** Every publish, in order, with its time since start. */
  publishes: { uri: string; ms: number; count: number }[];
  progress: { token: string | number; value: { kind: string; percentage?: number; message?: string } }[];
  logs: string[];
  startedAt: number;
  waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

/** The server command: sources under tsx (this file is .ts), else the compiled CLI. */
export function serverCommand(): string[] {
  // LRP_LENS_TEST_BUNDLE=1: the esbuild bundle that ships in the .vsix (npm run bundle first).
  if (process.env.LRP_LENS_TEST_BUNDLE === '1') return [process.execPath, join(REPO, 'dist', 'cli.js'), 'lsp', '--stdio'];
  if (import.meta.url.endsWith('.ts')) return [process.execPath, '--import', 'tsx', join(REPO, 'server', 'src', 'cli.ts'), 'lsp', '--stdio'];
  return [process.execPath, join(REPO, 'out', 'server', 'src', 'cli.js'), 'lsp', '--stdio'];
}

export async function startClient(
  folder: string,
  opts: { initializationOptions?: unknown; capabilities?: Record<string, unknown>; command?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<TestClient> {
  const [cmd, ...args] = opts.command ?? serverCommand();
  const startedAt = Date.now();
  const proc = spawn(cmd, args, { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  const logs: string[] = [];
  proc.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
  const conn = rpc.createMessageConnection(new rpc.StreamMessageReader(proc.stdout!), new rpc.StreamMessageWriter(proc.stdin!));
  const diagnostics = new Map<string, Diag[]>();
  const publishes: TestClient['publishes'] = [];
  const progress: TestClient['progress'] = [];
  conn.onNotification('textDocument/publishDiagnostics', (p: { uri: string; diagnostics: Diag[] }) => {
    diagnostics.set(p.uri, p.diagnostics);
    publishes.push({ uri: p.uri, ms: Date.now() - startedAt, count: p.diagnostics.length });
  });
  conn.onNotification('window/logMessage', (p: { message: string }) => void logs.push(p.message));
  conn.onNotification('window/showMessage', (p: { message: string }) => void logs.push(p.message));
  conn.onNotification('$/progress', (p: TestClient['progress'][number]) => void progress.push(p));
  conn.onNotification('lrpLens/status', () => undefined);
  conn.onRequest('window/workDoneProgress/create', () => null);
  conn.onRequest('client/registerCapability', () => null);
  conn.listen();
  const uri = pathToFileURL(folder).href;
  await conn.sendRequest('initialize', {
    processId: process.pid,
    rootUri: uri,
    workspaceFolders: [{ uri, name: 'test' }],
    capabilities: { window: { workDoneProgress: true }, ...(opts.capabilities ?? {}) },
    initializationOptions: opts.initializationOptions ?? {},
  });
  await conn.sendNotification('initialized', {});

  const waitFor = async <T,>(what: string, fn: () => T | undefined | false, timeoutMs = 60_000): Promise<T> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = fn();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}\nserver log:\n${logs.join('\n').slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const close = async () => {
    try {
      await Promise.race([conn.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 3000))]);
      await conn.sendNotification('exit');
    } catch {
      /* already gone */
    }
    await new Promise<void>((resolve) => {
      if (proc.exitCode !== null) return resolve();
      const t = setTimeout(() => {
        proc.kill('SIGKILL');
        resolve();
      }, 3000);
      proc.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
    conn.dispose();
  };

  return { conn, proc, diagnostics, publishes, progress, logs, startedAt, waitFor, close };
}
