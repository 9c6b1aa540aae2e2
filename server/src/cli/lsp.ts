/**
 * `lrp-lens lsp --stdio`: the language server for any LSP client (Neovim, Emacs, Helix, VS Code).
 * Also accepts --node-ipc and --socket=PORT (vscode-languageserver reads them from process.argv).
 */
import { LensError } from '../core/errors.js';

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write('usage: lrp-lens lsp --stdio | --node-ipc | --socket=PORT\n\nStarts the LRP Lens language server on the given transport.\n');
    return 0;
  }
  const transport = argv.find((a) => a === '--stdio' || a === '--node-ipc' || a.startsWith('--socket=') || a.startsWith('--pipe='));
  if (!transport) throw new LensError('USAGE', 'lrp-lens lsp needs a transport: --stdio (or --node-ipc, --socket=PORT)');
  // createConnection() picks the transport from process.argv; make sure ours is there.
  if (!process.argv.includes(transport)) process.argv.push(transport);
  const { startServer } = await import('../lsp/server.js');
  const connection = startServer();
  // Keep the process (and so the CLI's exit code) until the client says exit.
  return new Promise<number>((resolve) => {
    connection.onExit(() => resolve(0));
  });
}
