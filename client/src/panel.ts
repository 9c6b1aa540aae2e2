/**
 * The VS Code side of the heat-map panel: one WebviewPanel with a strict content security policy,
 * every message from the page validated, requests forwarded to the language server, state restored
 * after a reload (WebviewPanelSerializer). The page itself is webview/src/main.ts.
 */
import * as vscode from 'vscode';
import { readFileSync } from 'node:fs';
import { WorkDoneProgress, type LanguageClient } from 'vscode-languageclient/node';
import {
  Method, DEFAULT_SETTINGS, type PanelFocus, type ResultOf, type CheckDataResult, type ExplainParams, type ExplainResult, type FindingSummary, type ListModelsResult,
} from '../../server/src/protocol.js';
import { DEFAULT_STATE, parseToHost, type PanelState, type PngRequest, type ToHost, type ToWebview } from '../../webview/src/messages.js';
import { panelHtml, makeNonce } from './panel-html.js';
import { BACKEND_NAMES, COMPOSITE_NAMES, type BackendName } from '../../server/src/core/names.js';
import { focusState } from './panel-focus.js';
import { availableBackends, onStatus } from './status.js';
import { findingsCsv, isBackendUnavailable, netcdfBytes, npyBytes, pngBytes } from './panel-export.js';
import { allowData, chooseData } from './data-flow.js';

export const PANEL_VIEW_TYPE = 'lrpLens.heatmap';
/** Server request for the PNG export (core/render/png-request.ts renders it). */
export const RENDER_PNG_METHOD = 'lrpLens/renderPng';


let current: HeatmapPanel | undefined;

/**
 * Open (or reveal) the panel; with a result, show it (and with the request that made it, the panel
 * recomputes on the same samples).
 */
export async function showPanel(context: vscode.ExtensionContext, client: LanguageClient, args?: ExplainResult, params?: ExplainParams, focus?: PanelFocus): Promise<void> {
  if (!current) {
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, 'LRP Lens: heat map', vscode.ViewColumn.Beside, webviewOptions(context));
    current = new HeatmapPanel(context, panel, () => client);
    if (focus) current.focus = focus;
  } else {
    // Where it already is: Beside an active panel would open a third, narrower column.
    current.panel.reveal(current.panel.viewColumn ?? vscode.ViewColumn.Beside);
    if (focus) current.refocus(focus);
  }
  if (args) current.showResult(args, params);
}

/** Open (or reveal) the panel with its data form on `path` (a data file or Zarr store the server may read) for `model`. */
export async function openDataForm(context: vscode.ExtensionContext, client: LanguageClient, path: string, model: string): Promise<void> {
  await showPanel(context, client);
  current!.openForm(path, model);
}

/** Restore the panel after VS Code reloads (the page saved its state with vscode.setState). */
export function registerPanelSerializer(context: vscode.ExtensionContext, getClient: () => LanguageClient): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
    async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown) {
      panel.webview.options = webviewOptions(context);
      current?.dispose();
      current = new HeatmapPanel(context, panel, getClient, state as PanelState | undefined);
    },
  });
}

function webviewOptions(context: vscode.ExtensionContext): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    enableForms: false,
    // The page may load files from the extension's dist/webview only.
    localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview')],
    retainContextWhenHidden: false,
  };
}

class HeatmapPanel {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly jobs = new Map<string, { cts: vscode.CancellationTokenSource; jobId?: string }>();
  private ready = false;
  private queued: ToWebview[] = [];
  private state: PanelState | undefined;
  /** Results and data forms the host itself queued for the page (then the page does not explain on its own at start). */
  private hostResults = 0;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly panel: vscode.WebviewPanel,
    private readonly client: () => LanguageClient,
    restored?: PanelState,
  ) {
    this.state = restored;
    panel.webview.html = this.html();
    panel.webview.onDidReceiveMessage((m: unknown) => this.receive(m), undefined, this.disposables);
    panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
    this.disposables.push(onStatus((st) => this.followBackend(st.backend)));
  }

  /** The backend the page shows (sent at start, or chosen on the page). */
  private shownBackend: string | undefined;

  /**
   * The server's status is the one source of the active backend: when it names another one than the page
   * shows (chosen from the status bar), the page restarts with it (it has no message to change it live).
   */
  private followBackend(status: string): void {
    const setting = status.split(' ')[0]; // 'auto (onnxruntime)' -> 'auto'
    // A status sent before the server saw a change the page made itself is not a new choice.
    const configured = vscode.workspace.getConfiguration('lrpLens').get<string>('backend', 'auto');
    if (!this.ready || this.shownBackend === undefined || setting === this.shownBackend || setting !== configured) return;
    this.ready = false;
    this.hostResults = 0;
    this.panel.webview.html = this.html();
  }

  private html(): string {
    const w = this.panel.webview;
    const dir = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview');
    const template = readFileSync(vscode.Uri.joinPath(dir, 'panel.html').fsPath, 'utf8');
    return panelHtml(template, {
      cspSource: w.cspSource,
      nonce: makeNonce(),
      scriptUri: w.asWebviewUri(vscode.Uri.joinPath(dir, 'panel.js')).toString(),
      styleUri: w.asWebviewUri(vscode.Uri.joinPath(dir, 'panel.css')).toString(),
    });
  }

  private post(m: ToWebview): void {
    if (!this.ready) { this.queued.push(m); return; }
    void this.panel.webview.postMessage(m);
  }

  /** The view a finding's action asked for, applied when the page (re)starts. */
  focus: PanelFocus | undefined;

  /** Another view on an open panel: the page restarts in the focused state (it has no message to change it live). */
  refocus(focus: PanelFocus): void {
    this.focus = focus;
    this.ready = false;
    this.hostResults = 0;
    this.panel.webview.html = this.html();
  }

  /** The data-set check for a focused view (remedy twins): its findings and twins go to the page as the page's own check would. */
  private async checkFocused(model: string, state: PanelState): Promise<void> {
    const requestId = `focus-check-${Date.now()}`;
    try {
      const r = await this.client().sendRequest<CheckDataResult>(Method.checkData, { model, composite: { name: state.composite, params: state.params } });
      this.post({ type: 'findings', requestId, findings: r.findings, ...(r.twins ? { twins: r.twins } : {}) });
    } catch (e) {
      const err = e as { code?: string | number; message?: string; data?: { code?: string } };
      this.post({ type: 'error', requestId, code: String(err.data?.code ?? err.code ?? 'ERROR'), message: err.message ?? String(e) });
    }
  }

  showResult(result: ExplainResult, params?: ExplainParams): void {
    this.hostResults++;
    this.post({ type: 'result', requestId: `host-${result.jobId}`, purpose: 'main', result, params });
  }

  openForm(path: string, model: string): void {
    this.hostResults++;
    this.post({ type: 'openDataForm', path, model });
  }

  private async receive(raw: unknown): Promise<void> {
    const m = parseToHost(raw);
    if (!m) return; // not a message this host accepts
    try {
      await this.handle(m);
    } catch (e) {
      const err = e as { code?: string | number; message?: string; data?: { code?: string } };
      this.post({ type: 'error', requestId: 'requestId' in m ? m.requestId : undefined, code: String(err.data?.code ?? err.code ?? 'ERROR'), message: err.message ?? String(e) });
    }
  }

  private async handle(m: ToHost): Promise<void> {
    switch (m.type) {
      case 'ready': {
        const { models } = await this.client().sendRequest<ListModelsResult>(Method.listModels, {});
        const cfg = vscode.workspace.getConfiguration('lrpLens');
        const backend = cfg.get<string>('backend', 'auto');
        const kept = m.state ?? this.state ?? { ...DEFAULT_STATE, composite: cfg.get('composite', DEFAULT_SETTINGS.composite) };
        // The backend the server runs with, not one the page kept from before (the status bar may have changed it).
        const focus = this.focus;
        this.focus = undefined;
        const state = focus ? focusState({ ...kept, backend }, focus) : { ...kept, backend };
        // Only what can run here (the server's probe, status.ts), and the setting even where it cannot.
        const backends = availableBackends(BACKEND_NAMES);
        if (!backends.includes(backend as BackendName)) backends.push(backend as BackendName);
        this.shownBackend = backend;
        void this.panel.webview.postMessage({
          type: 'init', models, backends, composites: [...COMPOSITE_NAMES], autoExplain: this.hostResults === 0, state,
        } satisfies ToWebview);
        this.ready = true;
        for (const q of this.queued.splice(0)) void this.panel.webview.postMessage(q);
        if (focus?.checkData) await this.checkFocused(focus.model, state);
        return;
      }
      case 'saveState':
        this.state = m.state;
        return;
      case 'explain': {
        const cts = new vscode.CancellationTokenSource();
        this.jobs.set(m.requestId, { cts, jobId: m.params.jobId });
        const token = `lrpLens-panel-${m.requestId}`;
        const sub = this.client().onProgress(WorkDoneProgress.type, token, (p) => {
          if (p.kind === 'end') return;
          this.post({ type: 'progress', requestId: m.requestId, percentage: p.percentage, message: p.message });
        });
        try {
          const result = await this.client().sendRequest<ExplainResult>(Method.explain, { ...m.params, workDoneToken: token }, cts.token);
          if (!cts.token.isCancellationRequested) this.post({ type: 'result', requestId: m.requestId, purpose: m.purpose, result });
        } finally {
          sub.dispose();
          this.jobs.delete(m.requestId);
          cts.dispose();
        }
        return;
      }
      case 'cancel': {
        const job = this.jobs.get(m.requestId);
        if (!job) return;
        job.cts.cancel();
        if (job.jobId) void this.client().sendRequest(Method.cancel, { jobId: job.jobId }).then(undefined, () => undefined);
        return;
      }
      case 'checkData': {
        // The panel's samples (data file, dates) or its data form's unsaved entry, checked as explain would read them.
        const r = await this.client().sendRequest<CheckDataResult>(Method.checkData, { model: m.model, composite: m.composite, ...(m.samples ? { samples: m.samples } : {}), ...(m.entry ? { entry: m.entry } : {}) });
        this.post({ type: 'findings', requestId: m.requestId, findings: r.findings, ...(r.twins ? { twins: r.twins } : {}) });
        return;
      }
      case 'pickData': {
        // Every data file the CLI reads and Zarr stores; the page opens its data form for all but a .npy of inputs.
        const picked = await chooseData(undefined, false);
        if (!picked || picked === 'project') return;
        await allowData(this.client(), picked.uri);
        this.post({ type: 'dataPicked', path: picked.uri.fsPath });
        return;
      }
      // The data form's requests, forwarded as they are (the server checks them like explain's).
      case 'describeData': {
        const description = await this.client().sendRequest<ResultOf<typeof Method.describeData>>(Method.describeData, { file: m.file, model: m.model });
        this.post({ type: 'dataDescribed', requestId: m.requestId, description });
        return;
      }
      case 'planInput': {
        const plan = await this.client().sendRequest<ResultOf<typeof Method.planInput>>(Method.planInput, { model: m.model, entry: m.entry, previewSample: m.previewSample });
        this.post({ type: 'planned', requestId: m.requestId, plan });
        return;
      }
      case 'saveEntry': {
        const saved = await this.client().sendRequest<ResultOf<typeof Method.saveEntry>>(Method.saveEntry, { model: m.model, entry: m.entry });
        this.post({ type: 'entrySaved', requestId: m.requestId, saved });
        return;
      }
      case 'setBackend':
        this.shownBackend = m.backend;
        await vscode.workspace.getConfiguration('lrpLens').update('backend', m.backend, vscode.ConfigurationTarget.Workspace);
        return;
      case 'exportPng': {
        // Rendered before the save dialog: without sharp (the installed extension) the page draws it instead.
        let png: Uint8Array;
        try {
          png = await this.renderPng(m.view);
        } catch (e) {
          if (!isBackendUnavailable(e)) throw e;
          this.post({ type: 'renderPngLocally', name: `${m.view.title}.png` });
          return;
        }
        return this.save(`${m.view.title}.png`, { 'PNG image': ['png'] }, 'PNG', async () => png);
      }
      case 'savePng':
        return this.save(m.name, { 'PNG image': ['png'] }, 'PNG', async () => pngBytes(m.base64));
      case 'exportNpy':
        return this.save(m.name, { 'NumPy array': ['npy'] }, 'relevance', async () => npyBytes(m.array));
      case 'exportNetcdf': {
        // Computed by the server before the save dialog (it explains the request again, as explain does).
        const r = await this.client().sendRequest<ResultOf<typeof Method.exportNetcdf>>(Method.exportNetcdf, { ...m.params, jobId: undefined });
        const bytes = netcdfBytes(r.base64);
        return this.save(r.fileName || m.name, { NetCDF: ['nc'] }, 'NetCDF', async () => bytes);
      }
      case 'exportCsv':
        return this.save(m.name, { CSV: ['csv'] }, 'findings', async () => new TextEncoder().encode(findingsCsv(m.findings as FindingSummary[])));
      case 'openDocs': {
        const uri = vscode.Uri.parse(m.url);
        if (uri.scheme === 'file') await vscode.commands.executeCommand('markdown.showPreview', uri);
        else await vscode.env.openExternal(uri);
        return;
      }
      case 'rendered':
        return;
    }
  }

  /**
   * PNG bytes from the language server (sharp lives there, never in the extension host); when it cannot
   * render (BACKEND_UNAVAILABLE), the caller falls back to the page's own canvas rendering.
   */
  private async renderPng(view: PngRequest): Promise<Uint8Array> {
    const r = await this.client().sendRequest<{ base64: string }>(RENDER_PNG_METHOD, view);
    return Buffer.from(r.base64, 'base64');
  }

  private async save(name: string, filters: Record<string, string[]>, what: string, bytes: () => Promise<Uint8Array>): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const safe = name.replace(/[^\w.-]+/g, '_');
    const target = await vscode.window.showSaveDialog({ filters, defaultUri: folder ? vscode.Uri.joinPath(folder, safe) : undefined });
    if (!target) return;
    await vscode.workspace.fs.writeFile(target, await bytes());
    this.post({ type: 'exported', what, path: target.fsPath });
  }

  dispose(): void {
    for (const j of this.jobs.values()) j.cts.cancel();
    this.jobs.clear();
    if (current === this) current = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}
