/** The palette commands (category "LRP Lens"); each is a thin call to the language server or to the panel. */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  Method,
  type CheckDataResult,
  type ExplainParams,
  type ExplainResult,
  type ListModelsResult,
  type ModelSummary,
  type ReanalyzeResult,
} from '../../server/src/protocol.js';
import { openDataForm, showPanel } from './panel.js';
import { allowData, browseData, chooseData } from './data-flow.js';
import { isReadyInputs } from './data-files.js';
import { modelLabel } from './model-label.js';
import { BACKEND_NAMES } from '../../server/src/core/names.js';
import { parseExplainOptions, parsePanelFocus } from './panel-focus.js';
import { selectBackend } from './status.js';

export function registerCommands(context: vscode.ExtensionContext, client: () => LanguageClient, output: vscode.OutputChannel): void {
  const reg = (id: string, fn: (...args: never[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));

  // options: a finding's action may ask for a composite or a rule map for this explanation (panel-focus.ts checks them).
  reg('lrpLens.explainModel', async (target?: vscode.Uri | string, options?: unknown) => {
    const model = await pickModel(client(), target);
    if (!model) return;
    // lrp-lens.json's data, a .npy of inputs, or the user's own data file (then the panel's data form).
    const choice = await chooseData({ file: model.file, label: labelOf(model) });
    if (!choice) return;
    if (choice !== 'project' && !isReadyInputs(choice.uri.fsPath)) {
      await allowData(client(), choice.uri);
      await openDataForm(context, client(), choice.uri.fsPath, model.uri);
      return;
    }
    const samples = choice === 'project' ? undefined : choice.uri;
    if (samples) await allowData(client(), samples);
    const cfg = vscode.workspace.getConfiguration('lrpLens');
    const params: ExplainParams = {
      model: model.uri,
      composite: { name: cfg.get<string>('composite', 'epsilon-plus'), params: cfg.get<Record<string, number>>('compositeParams', {}) },
      target: 'argmax',
    };
    const opts = parseExplainOptions(options);
    if (opts?.composite) params.composite = { name: opts.composite, params: {} };
    if (opts?.rules) params.rules = opts.rules;
    if (samples) params.samples = { data: samples.fsPath };
    try {
      // The server reports $/progress (with a cancel button) while it runs.
      const r = await client().sendRequest<ExplainResult>(Method.explain, params);
      const c = r.conservation;
      output.appendLine(
        `explain ${vscode.workspace.asRelativePath(model.file)}: ${r.samples.length} sample(s), composite ${r.composite.name}, backend ${r.backend}, ${r.durationMs} ms${r.cached ? ' (cached)' : ''}; max relative conservation error ${c.maxRelativeError.toExponential(2)}`,
      );
      await showPanel(context, client(), r, params);
    } catch (e) {
      reportError('Explain', e, output);
    }
  });

  // A finding's view action passes a PanelFocus (server/src/lsp/code-action-table.ts): the model, tab, overlays, comparison.
  reg('lrpLens.showPanel', async (focus?: unknown) => {
    await showPanel(context, client(), undefined, undefined, parsePanelFocus(focus));
  });

  // The quick fix on a model without data (the server's code actions) calls this with the model's URI.
  reg('lrpLens.addData', async (modelUri?: string | vscode.Uri) => {
    const model = await pickModel(client(), modelUri);
    if (!model) return;
    const choice = await chooseData({ file: model.file, label: labelOf(model) }, false);
    if (!choice || choice === 'project') return;
    await allowData(client(), choice.uri);
    await openDataForm(context, client(), choice.uri.fsPath, model.uri);
  });

  // The explorer's context menu on a data file or a Zarr store folder: which model, then the data form.
  reg('lrpLens.explainOnData', async (resource?: vscode.Uri) => {
    const data = resource instanceof vscode.Uri ? resource : await browseData(false);
    if (!data) return;
    const model = await pickModel(client(), undefined, true);
    if (!model) return;
    await allowData(client(), data);
    await openDataForm(context, client(), data.fsPath, model.uri);
  });

  reg('lrpLens.checkData', async (target?: vscode.Uri | string) => {
    const model = await pickModel(client(), target);
    if (!model) return;
    const samples = await pickSamples(model, client());
    if (samples === null) return;
    try {
      const r = await client().sendRequest<CheckDataResult>(Method.checkData, { model: model.uri, samples: samples ? { data: samples.fsPath } : undefined });
      output.appendLine(`check ${vscode.workspace.asRelativePath(model.file)}: ${r.findings.length} finding(s) on the relevance maps (${r.durationMs} ms)`);
      for (const f of r.findings) output.appendLine(`  ${f.code} ${f.severity}: ${f.message}`);
      void vscode.window.showInformationMessage(`LRP Lens: ${r.findings.length} finding(s) on the relevance maps of ${labelOf(model)}; see the Problems panel.`);
    } catch (e) {
      reportError('Check data set', e, output);
    }
  });

  reg('lrpLens.reanalyze', async () => {
    const r = await client().sendRequest<ReanalyzeResult>(Method.reanalyze, {});
    output.appendLine(`re-analyzed ${r.models} model file(s)`);
  });

  // Offers what the server's probe says can run here (status.ts); the rest shown with how to get it.
  reg('lrpLens.selectBackend', () => selectBackend(BACKEND_NAMES));

  reg('lrpLens.openFindingDocs', async (code?: string) => {
    if (typeof code !== 'string') {
      const codes = new Map<string, string>();
      for (const [, diags] of vscode.languages.getDiagnostics())
        for (const d of diags) if (d.source === 'lrp-lens' && typeof d.code === 'object') codes.set(String(d.code.value), d.code.target.toString());
      const pick = await vscode.window.showQuickPick([...codes.keys()].sort(), { title: 'LRP Lens: documentation of a finding', placeHolder: 'Finding code (LRP101, ...)' });
      if (!pick) return;
      code = pick;
    }
    const local = vscode.Uri.joinPath(context.extensionUri, 'docs', 'findings', `${code}.md`);
    try {
      await vscode.workspace.fs.stat(local);
      await vscode.commands.executeCommand('markdown.showPreview', local);
    } catch {
      await vscode.env.openExternal(vscode.Uri.parse(`https://github.com/lrp-lens/lrp-lens/blob/main/docs/findings/${code}.md`));
    }
  });

  // Used by the server's quick fix when the workspace has no lrp-lens.json.
  reg('lrpLens.setComposite', async (name: string) => {
    await vscode.workspace.getConfiguration('lrpLens').update('composite', name, vscode.ConfigurationTarget.Workspace);
    void vscode.window.showInformationMessage(`LRP Lens: composite set to '${name}'.`);
  });
}

function reportError(what: string, e: unknown, output: vscode.OutputChannel): void {
  const err = e as { message?: string; data?: { code?: string } };
  if (err.data?.code === 'CANCELLED') {
    output.appendLine(`${what}: cancelled`);
    return;
  }
  output.appendLine(`${what} failed: ${err.message ?? String(e)}`);
  void vscode.window.showErrorMessage(`LRP Lens: ${what} failed: ${err.message ?? String(e)}`);
}

/** A model's name in pickers and messages: its file and folder (model-label.ts). */
function labelOf(m: ModelSummary): string {
  return modelLabel(m).label;
}

/** Why a model that did not load cannot be explained: its error, with the hint when it has one. */
function refusalText(m: ModelSummary): string {
  const e = m.error;
  const why = e ? `${e.code}: ${e.message}${e.layer ? ` (layer '${e.layer}')` : ''}` : m.state === 'pending' ? 'it has not been analyzed yet' : 'it did not load';
  return `LRP Lens: ${labelOf(m)} cannot be explained: ${why}${e?.hint ? `. ${e.hint}` : ''}`;
}

/**
 * The model to work on: the argument, the active editor's file, or a pick among the workspace's models.
 * A model that did not load is not silently replaced by another: asked for (or picked), it says why.
 */
async function pickModel(client: LanguageClient, target?: vscode.Uri | string, ask = false): Promise<ModelSummary | undefined> {
  const { models } = await client.sendRequest<ListModelsResult>(Method.listModels, {});
  const ok = models.filter((m) => m.state === 'ok');
  // ask: always the pick (the explorer's data file is not the model, whatever editor is active).
  const wanted = typeof target === 'string' ? vscode.Uri.parse(target.startsWith('file:') ? target : vscode.Uri.file(target).toString()) : target ?? (ask ? undefined : activeModelUri());
  // Compare file paths: the server's URIs and VS Code's may encode characters differently.
  const hit = wanted ? models.find((m) => m.file === wanted.fsPath || m.uri === wanted.toString()) : undefined;
  if (hit?.state === 'ok') return hit;
  if (hit) {
    void vscode.window.showErrorMessage(refusalText(hit));
    return undefined;
  }
  if (ok.length === 0) {
    const failed = models.filter((m) => m.state === 'error');
    void vscode.window.showWarningMessage(
      failed.length === 1
        ? refusalText(failed[0])
        : `LRP Lens: no model in this workspace loaded without errors${failed.length ? ` (${failed.length} did not load: ${failed.map(labelOf).join(', ')}; see the Problems panel)` : ''}.`,
    );
    return undefined;
  }
  // Models that did not load are listed last, so picking one says why instead of its absence being a mystery.
  const item = (m: ModelSummary) => ({ ...modelLabel(m, vscode.workspace.asRelativePath(m.file)), model: m });
  const pick = await vscode.window.showQuickPick([...ok, ...models.filter((m) => m.state !== 'ok')].map(item), { title: 'LRP Lens: which model?', matchOnDescription: true });
  if (pick && pick.model.state !== 'ok') {
    void vscode.window.showErrorMessage(refusalText(pick.model));
    return undefined;
  }
  return pick?.model;
}

function activeModelUri(): vscode.Uri | undefined {
  const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (tab instanceof vscode.TabInputCustom || tab instanceof vscode.TabInputText) return tab.uri;
  return vscode.window.activeTextEditor?.document.uri;
}

/**
 * The samples: a .npy of model inputs picked from the workspace (closest to the model first), or
 * undefined to let the server use lrp-lens.json's data; null when the user backs out.
 */
async function pickSamples(model: ModelSummary, client: LanguageClient): Promise<vscode.Uri | undefined | null> {
  const project = await vscode.workspace.findFiles('lrp-lens.json', undefined, 1);
  const npys = await vscode.workspace.findFiles('**/*.npy', '**/node_modules/**', 200);
  const dir = model.file.replace(/[/\\][^/\\]*$/, '');
  const near = (u: vscode.Uri) => (u.fsPath.startsWith(dir) ? 0 : 1);
  npys.sort((a, b) => near(a) - near(b) || a.fsPath.localeCompare(b.fsPath));
  const items: (vscode.QuickPickItem & { uri?: vscode.Uri; project?: boolean; browse?: boolean })[] = [];
  if (project.length > 0) items.push({ label: 'Data from lrp-lens.json', project: true });
  for (const u of npys) items.push({ label: vscode.workspace.asRelativePath(u), uri: u });
  items.push({ label: 'Browse…', browse: true });
  const pick = await vscode.window.showQuickPick(items, { title: `LRP Lens: samples to explain ${labelOf(model)}`, placeHolder: 'A .npy of model inputs (batch first)' });
  if (!pick) return null;
  if (pick.project) return undefined;
  if (pick.uri) return pick.uri;
  const chosen = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'NumPy arrays': ['npy'] } });
  // The server reads no path outside the workspace folders unless the user picked it here.
  if (chosen?.[0]) await client.sendRequest(Method.allowPaths, { paths: [chosen[0].fsPath] });
  return chosen?.[0] ?? null;
}
