/** The status bar item: compute backend and running jobs; a click selects the backend. */
import * as vscode from 'vscode';
import type { StatusParams } from '../../server/src/protocol.js';

export class StatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('lrpLens.status', vscode.StatusBarAlignment.Right, 100);

  constructor() {
    this.item.name = 'LRP Lens';
    this.item.command = 'lrpLens.selectBackend';
    this.update({ backend: String(vscode.workspace.getConfiguration('lrpLens').get('backend') ?? 'auto'), running: [], models: 0, withErrors: 0, trusted: vscode.workspace.isTrusted });
    this.item.show();
  }

  update(s: StatusParams): void {
    const jobs = s.running.filter((j) => j.kind !== 'analyze');
    const busy = s.running.length > 0;
    this.item.text = `${busy ? '$(sync~spin)' : '$(flame)'} LRP ${s.backend}${jobs.length ? ` · ${jobs.length} job${jobs.length > 1 ? 's' : ''}` : ''}`;
    const lines = [
      `LRP Lens: backend ${s.backend}${s.trusted ? '' : ' (untrusted workspace: static checks only)'}`,
      `${s.models} model file(s), ${s.withErrors} with errors`,
      ...s.running.map((j) => `${j.kind}: ${vscode.workspace.asRelativePath(j.model)}`),
      'Click to select the compute backend',
    ];
    this.item.tooltip = lines.join('\n');
  }

  dispose(): void {
    this.item.dispose();
  }
}
