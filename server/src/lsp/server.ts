/**
 * The LRP Lens language server: a thin shell that wires the core (through the worker pool and
 * lsp/analyzer.ts) to the Language Server Protocol. It finds model files in the workspace, publishes
 * the static checks as diagnostics, re-analyzes on change, and answers the lrpLens/* requests.
 * The state lives in state.ts, the handlers in handlers/, the table of which serves what in dispatch.ts.
 * `startServer()` runs it on the connection the process was started with (--stdio, --node-ipc).
 */
import { createConnection, ProposedFeatures, type Connection } from 'vscode-languageserver/node';
import { registerHandlers } from './dispatch.js';
import { FramingGuard } from './framing.js';
import { ServerState, type ServerOptions } from './state.js';

export type { ServerOptions };

/**
 * The connection the process was started with. On stdio the input passes a framing guard first, so one
 * malformed message header does not stop every later answer (vscode-jsonrpc's reader stops for good).
 */
function defaultConnection(): Connection {
  if (!process.argv.includes('--stdio')) return createConnection(ProposedFeatures.all);
  const guard = new FramingGuard((bytes, why) => process.stderr.write(`[lrp-lens] skipped ${bytes} byte(s) of input: ${why}\n`));
  process.stdin.pipe(guard);
  // stdout carries the protocol: console output goes to stderr (what the library's own --stdio mode does).
  for (const k of ['log', 'info', 'warn', 'error', 'debug'] as const) console[k] = (...a: unknown[]) => void process.stderr.write(a.map(String).join(' ') + '\n');
  return createConnection(ProposedFeatures.all, guard, process.stdout);
}

export function startServer(connection: Connection = defaultConnection(), opts: ServerOptions = {}): Connection {
  const state = new ServerState(connection, opts);
  // One failed promise somewhere must not take the server (and every other model's diagnostics) down.
  process.on('unhandledRejection', (e) => connection.console.error(`[lrp-lens] unhandled: ${e instanceof Error ? e.stack : String(e)}`));
  registerHandlers(state);
  state.documents.listen(connection);
  connection.listen();
  return connection;
}
