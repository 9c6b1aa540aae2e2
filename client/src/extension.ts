/**
 * The VS Code side of LRP Lens, kept thin (as vscode-eslint and rust-analyzer do): start the language
 * server, register the commands, the status bar item, the read-only model viewer and the panel.
 * All analysis happens in the server (dist/server.js), which any other LSP client can use as well.
 */
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { Notification, type InitializationOptions, type StatusParams } from '../../server/src/protocol.js';
import { registerCommands } from './commands.js';
import { ModelEditorProvider } from './model-editor.js';
import { StatusItem } from './status.js';
import { registerPanelSerializer } from './panel.js';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  // A log channel: the language client also uses it for its trace and reads its log level.
  const output = vscode.window.createOutputChannel('LRP Lens', { log: true });
  context.subscriptions.push(output);
  const status = new StatusItem();
  // One handler per notification method in vscode-languageclient (a second registration replaces the
  // first), so the server's status is fanned out from here to the status bar and the model viewers.
  const statusEvents = new vscode.EventEmitter<StatusParams>();
  context.subscriptions.push(status, statusEvents);

  const start = async (): Promise<LanguageClient> => {
    const module = context.asAbsolutePath('dist/server.js');
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
    };
    const init: InitializationOptions = { trusted: vscode.workspace.isTrusted };
    const clientOptions: LanguageClientOptions = {
      // Open JSON model files and the project file are synced (hover, code actions); binary model files
      // are read by the server from disk.
      documentSelector: [
        { scheme: 'file', pattern: '**/model.json' },
        { scheme: 'file', pattern: '**/*.json', language: 'json' },
        { scheme: 'file', pattern: '**/lrp-lens.json' },
      ],
      synchronize: { configurationSection: 'lrpLens' },
      outputChannel: output,
      initializationOptions: init,
    };
    const c = new LanguageClient('lrpLens', 'LRP Lens', serverOptions, clientOptions);
    await c.start();
    c.onNotification(Notification.status, (s: StatusParams) => {
      status.update(s);
      statusEvents.fire(s);
    });
    return c;
  };

  client = await start();
  const getClient = () => client!;
  registerCommands(context, getClient, output);
  context.subscriptions.push(registerPanelSerializer(context, getClient));
  context.subscriptions.push(
    vscode.window.registerCustomEditorProvider(ModelEditorProvider.viewType, new ModelEditorProvider(getClient, statusEvents.event), {
      webviewOptions: { retainContextWhenHidden: false },
      supportsMultipleEditorsPerDocument: true,
    }),
  );

  // Trust granted later: restart the server so explanations are allowed.
  context.subscriptions.push(
    vscode.workspace.onDidGrantWorkspaceTrust(async () => {
      await client?.stop();
      client = await start();
    }),
  );
  output.appendLine(`LRP Lens started (workspace ${vscode.workspace.isTrusted ? 'trusted' : 'not trusted: static checks only'})`);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
