/**
 * The LRP Lens language server: a thin shell that wires the core (through the worker pool and
 * lsp/analyzer.ts) to the Language Server Protocol. It finds model files in the workspace, publishes
 * the static checks as diagnostics, re-analyzes on change, and answers the lrpLens/* requests.
 * `startServer()` runs it on the connection the process was started with (--stdio, --node-ipc).
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  createConnection,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  FileChangeType,
  DidChangeWatchedFilesNotification,
  CodeActionKind,
  ShowMessageNotification,
  ResponseError,
  LSPErrorCodes,
  ErrorCodes,
  MessageType,
  type CancellationToken,
  type Connection,
  type InitializeParams,
  type InitializeResult,
  type WorkDoneProgressReporter,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { LensError, toLensError } from './core/errors.js';
import { rewriteDocsLink, localDocsLink, docsLink, REPOSITORY_URL, DOCS_BRANCH } from './core/artifacts/docs-link.js';
import {
  DEFAULT_SETTINGS,
  Method,
  Notification,
  type CheckDataResult,
  type CompositeChoice,
  type ExplainParams,
  type ExplainResult,
  type FindingSummary,
  type InitializationOptions,
  type LensSettings,
  type ListModelsResult,
  type ModelSummary,
  type AllowPathsResult,
  type ReanalyzeResult,
  type StatusParams,
} from './protocol.js';
import { WorkerPool, defaultWorkerScript } from './lsp/pool.js';
import { FolderWatcher } from './lsp/watch.js';
import { modelFor, type Discovered, type DiscoveryOptions } from './lsp/discovery.js';
import { SAVED_MODEL_FILE } from './core/model/model-file-names.js';
import { FramingGuard } from './lsp/framing.js';
import { checkSettings } from './lsp/settings.js';
import { allowPathsParams, checkDataParams, explainParams, jobIdParam, listFilter, reanalyzeParams } from './lsp/request-params.js';
import { hashModelFile } from './lsp/content-hash.js';
import { modelDiagnostics, docFor, findingToDiagnostic, type DiagnosticContext } from './lsp/diagnostics.js';
import { layerAt, layerHover } from './lsp/hover.js';
import { codeActionsFor } from './lsp/code-actions.js';
import { projectDiagnostics, PROJECT_FILE } from './lsp/project.js';
import type { AnalyzePayload, CheckDataJobPayload, ExplainJobPayload } from './lsp/analyzer.js';

interface ModelEntry {
  summary: ModelSummary;
  text?: string;
  hash?: string;
  /** Relevance-map findings from the last checkData. */
  mapFindings: FindingSummary[];
  /** Layer -> share of |relevance| from the last explain. */
  shares?: Map<string, number>;
}

export interface ServerOptions {
  /** Worker script; default: worker.js (or .ts under tsx) next to this module. */
  workerScript?: URL;
}

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

/** Where the findings' pages are on disk (a checkout or the installed extension), if anywhere. */
function findDocsRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'docs', 'findings'))) return dir;
    dir = dirname(dir);
  }
  return undefined;
}

export function startServer(connection: Connection = defaultConnection(), opts: ServerOptions = {}): Connection {
  const documents = new TextDocuments(TextDocument);
  const models = new Map<string, ModelEntry>();
  const analysisCache = new Map<string, ModelSummary>();
  const explainCache = new Map<string, ExplainResult>();
  /** Bumped per file on every change, so a late analysis of an old version is dropped. */
  const versions = new Map<string, number>();
  const debounce = new Map<string, NodeJS.Timeout>();
  /** Client job ids -> cancel functions of running jobs. */
  const jobs = new Map<string, { kind: 'analyze' | 'explain' | 'checkData'; model: string; cancel(): void }>();
  let folderWatcher: FolderWatcher | undefined;
  const projectPublished = new Set<string>();
  /** Per project file: the number of its latest validation; an older one that ends later is dropped. */
  const projectRuns = new Map<string, number>();
  /** Real paths outside the workspace folders that the user picked in a dialog (lrpLens/allowPaths). */
  const allowedPaths = new Set<string>();
  /** The settings problems last shown, so one bad value is not announced on every reload. */
  let shownProblems = '';
  let roots: string[] = [];
  let settings: LensSettings = { ...DEFAULT_SETTINGS };
  let initOptions: InitializationOptions = {};
  let trusted = true;
  let canPullConfig = false;
  let canRegisterWatchers = false;
  let canProgress = false;
  let canWorkspaceFolders = false;
  let pool: WorkerPool | undefined;
  let jobCounter = 0;
  /** The tfjs backend the last explanation actually ran on ('auto' resolves to one). */
  let activeBackend: string | undefined;
  const docsRoot = findDocsRoot();
  // One failed promise somewhere must not take the server (and every other model's diagnostics) down.
  process.on('unhandledRejection', (e) => connection.console.error(`[lrp-lens] unhandled: ${e instanceof Error ? e.stack : String(e)}`));

  const log = (msg: string) => connection.console.log(`[lrp-lens] ${msg}`);

  const docsHref = (link: string, code: string): string => {
    if (!/^LRP\d+$/.test(code)) {
      // Error codes (CONFIG_ERROR, BAD_JSON, ...) share one page.
      const local = docsRoot && join(docsRoot, 'docs', 'errors.md');
      return local && existsSync(local) ? `${pathToFileURL(local).href}#${code.toLowerCase()}` : `${REPOSITORY_URL}/blob/${DOCS_BRANCH}/docs/errors.md#${code.toLowerCase()}`;
    }
    if (initOptions.docsBaseUrl) return `${initOptions.docsBaseUrl}${code}.md`;
    if (docsRoot && existsSync(join(docsRoot, 'docs', 'findings', `${code}.md`))) return link ? rewriteDocsLink(link, docsRoot) : localDocsLink(code, docsRoot);
    return link || docsLink(code);
  };

  function makePool(): WorkerPool {
    const script = opts.workerScript ?? defaultWorkerScript();
    // Bundled: the .wasm files sit next to dist/worker.js (scripts/bundle.js copies them there).
    const scriptDir = dirname(fileURLToPath(script));
    const wasmDir = existsSync(join(scriptDir, 'tfjs-backend-wasm.wasm')) ? scriptDir : process.env.LRP_LENS_WASM_DIR;
    return new WorkerPool({
      script,
      size: Math.max(1, Math.min(8, settings.workers)),
      resourceLimits: { maxOldGenerationSizeMb: settings.memoryLimitMB },
      workerData: { backend: settings.backend, wasmDir },
      onCrash: ({ kind, error }) => {
        log(`worker crashed during ${kind}: ${error.message}; replaced`);
        void connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Warning, message: `LRP Lens: a worker crashed during ${kind} (${error.message}). It was replaced.` });
      },
    });
  }

  function sendStatus(): void {
    const status: StatusParams = {
      backend: activeBackend && settings.backend === 'auto' ? `auto (${activeBackend})` : settings.backend,
      running: [...jobs.entries()].map(([jobId, j]) => ({ jobId, kind: j.kind, model: j.model })),
      models: models.size,
      withErrors: [...models.values()].filter((m) => m.summary.state === 'error' || m.summary.findings.some((f) => f.severity === 'error')).length,
      trusted,
    };
    void connection.sendNotification(Notification.status, status);
  }

  const settingsKey = (): string => JSON.stringify({ c: settings.composite, p: settings.compositeParams, d: [...settings.disabledChecks].sort() });

  /**
   * Where a model's diagnostics go: the file itself, or for a SavedModel folder its saved_model.pb, a file
   * the Problems panel can open (the custom editor shows the model from it).
   */
  function diagnosticUri(file: string): string {
    const pb = join(file, SAVED_MODEL_FILE);
    return pathToFileURL(existsSync(pb) ? pb : file).href;
  }

  /** The URI each model's diagnostics were last published at, so they are cleared there even after the folder is gone. */
  const publishedAt = new Map<string, string>();

  function publish(file: string): void {
    const entry = models.get(file);
    if (!entry) {
      const uri = publishedAt.get(file) ?? pathToFileURL(file).href;
      publishedAt.delete(file);
      void connection.sendDiagnostics({ uri, diagnostics: [] });
      return;
    }
    const uri = diagnosticUri(file);
    const before = publishedAt.get(file);
    if (before !== undefined && before !== uri) void connection.sendDiagnostics({ uri: before, diagnostics: [] });
    publishedAt.set(file, uri);
    const ctx: DiagnosticContext = { uri, text: entry.text, docs: docsHref };
    const diagnostics = modelDiagnostics(entry.summary, ctx, settings.disabledChecks);
    const doc = docFor(ctx);
    for (const f of entry.mapFindings) if (!settings.disabledChecks.includes(f.code)) diagnostics.push(findingToDiagnostic(f, entry.summary, ctx, doc));
    void connection.sendDiagnostics({ uri, diagnostics });
  }

  function pendingSummary(file: string): ModelSummary {
    return { uri: pathToFileURL(file).href, file, name: basename(file), state: 'pending', inputs: [], outputs: [], layers: [], totalParams: 0, findings: [] };
  }

  /** Same content analyzed for another path: the same result with this path in it. */
  function rehome(s: ModelSummary, file: string): ModelSummary {
    return {
      ...s,
      file,
      uri: pathToFileURL(file).href,
      findings: s.findings.map((f) => ({ ...f, file: f.file === s.file ? file : f.file })),
      error: s.error ? { ...s.error, file } : undefined,
      analysisMs: 0,
    };
  }

  async function analyze(file: string): Promise<void> {
    const version = (versions.get(file) ?? 0) + 1;
    versions.set(file, version);
    const isJson = file.toLowerCase().endsWith('.json');
    let entry = models.get(file);
    if (!entry) {
      entry = { summary: pendingSummary(file), mapFindings: [] };
      models.set(file, entry);
    }
    let summary: ModelSummary;
    let hashed: { hash: string; text?: string } | undefined;
    try {
      hashed = await hashModelFile(file, isJson);
      const key = `${hashed.hash}|${settingsKey()}`;
      const hit = analysisCache.get(key);
      if (hit) summary = rehome(hit, file);
      else {
        const jobId = `analyze-${++jobCounter}`;
        const payload: AnalyzePayload = { file, settings: { composite: settings.composite, disabledChecks: settings.disabledChecks } };
        const handle = pool!.run<ModelSummary>('analyze', payload);
        jobs.set(jobId, { kind: 'analyze', model: file, cancel: handle.cancel });
        try {
          // The model is the path analyzed (a SavedModel's folder, not the saved_model.pb the loader read).
          const r = await handle.promise;
          summary = { ...r, file, uri: pathToFileURL(file).href, contentHash: hashed.hash, findings: r.findings.map((f) => (f.file === r.file ? { ...f, file } : f)) };
        } finally {
          jobs.delete(jobId);
        }
        analysisCache.set(key, summary);
        if (analysisCache.size > 1000) analysisCache.delete(analysisCache.keys().next().value!);
      }
    } catch (e) {
      const err = toLensError(e, file);
      if (err.code === 'CANCELLED' && versions.get(file) !== version) return;
      summary = { ...pendingSummary(file), state: 'error', error: err.toJSON(), contentHash: hashed?.hash };
      if (hashed && err.code !== 'CANCELLED' && !(err.message.startsWith('worker crashed'))) analysisCache.set(`${hashed.hash}|${settingsKey()}`, summary);
    }
    if (versions.get(file) !== version || !models.has(file)) return; // a newer change or a delete won
    if (entry.hash !== hashed?.hash) {
      entry.mapFindings = [];
      entry.shares = undefined;
    }
    entry.summary = summary;
    entry.text = hashed?.text;
    entry.hash = hashed?.hash;
    publish(file);
    sendStatus();
  }

  function forget(file: string): void {
    versions.set(file, (versions.get(file) ?? 0) + 1);
    models.delete(file);
    publish(file);
    sendStatus();
  }

  function schedule(file: string, delayMs = 150): void {
    clearTimeout(debounce.get(file));
    debounce.set(
      file,
      setTimeout(() => {
        debounce.delete(file);
        if (!existsSync(file)) forget(file);
        else if (modelFor(roots, file, settings.modelGlobs, settings.exclude) === file) void analyze(file);
        else if (models.has(file)) forget(file); // now a symlink, a FIFO, ...: no model, as in the scan
      }, delayMs),
    );
  }

  /** The workspace scan, on a worker thread: the protocol thread only answers requests. */
  async function discover(opts: DiscoveryOptions): Promise<Discovered> {
    return pool!.run<Discovered>('discover', { roots, opts }).promise;
  }

  async function scanAll(): Promise<void> {
    const started = Date.now();
    const found = await discover({ include: settings.modelGlobs, exclude: settings.exclude, maxFileBytes: settings.maxFileSizeMB * 1024 * 1024 });
    for (const t of found.tooLarge) log(`skipped ${t.file}: ${(t.bytes / 1048576).toFixed(0)} MB is over lrpLens.maxFileSizeMB`);
    if (found.truncated) log('the workspace scan stopped at its budget of folder entries (SCAN_MAX_ENTRIES); narrow lrpLens.modelGlobs or lrpLens.exclude');
    for (const file of [...models.keys()]) if (!found.files.includes(file)) forget(file);
    await Promise.all(found.files.map((f) => analyze(f)));
    log(`analyzed ${found.files.length} model file(s) in ${Date.now() - started} ms`);
    await validateProjects();
  }

  /** Every lrp-lens.json in the workspace: its problems as diagnostics at the offending keys. */
  async function validateProjects(): Promise<void> {
    // Any size: an oversized project file gets a diagnostic saying so (projectDiagnostics checks the budget).
    const found = await discover({ include: [`**/${PROJECT_FILE}`], exclude: settings.exclude, maxFileBytes: Number.MAX_SAFE_INTEGER });
    for (const file of projectPublished) if (!found.files.includes(file)) {
      projectPublished.delete(file);
      void connection.sendDiagnostics({ uri: pathToFileURL(file).href, diagnostics: [] });
    }
    for (const file of found.files) await validateProject(file);
  }

  /** One project file; `text` is the editor's unsaved text when it is open. */
  async function validateProject(file: string, text?: string): Promise<void> {
    const uri = pathToFileURL(file).href;
    const run = (projectRuns.get(file) ?? 0) + 1;
    projectRuns.set(file, run);
    if (text === undefined && !existsSync(file)) {
      if (projectPublished.delete(file)) void connection.sendDiagnostics({ uri, diagnostics: [] });
      return;
    }
    // Untrusted: the structure only, no data file opened (nothing outside the folder is read).
    const diagnostics = await projectDiagnostics(file, docsHref, (m) => {
      const s = models.get(m)?.summary;
      return s?.state === 'ok' ? s.inputs[0]?.shape : undefined;
    }, text ?? documents.get(uri)?.getText(), { checkData: trusted });
    // A newer edit started a newer validation: its result, not this older one, is the truth.
    if (projectRuns.get(file) !== run) return;
    projectPublished.add(file);
    void connection.sendDiagnostics({ uri, diagnostics });
  }

  function onFsEvent(file: string): void {
    if (basename(file) === PROJECT_FILE) {
      clearTimeout(debounce.get(file));
      debounce.set(file, setTimeout(() => void validateProject(file), 150));
      return;
    }
    if (/\.bin$/i.test(file)) {
      // A weight shard changed: re-analyze the model.json files beside it.
      for (const m of models.keys()) if (dirname(m) === dirname(file) && m.endsWith('.json')) schedule(m);
      return;
    }
    if (!existsSync(file)) {
      // Gone (a folder or a symlink to one included): so are the models that were under it.
      for (const m of [...models.keys()]) if (m === file || m.startsWith(file + sep)) schedule(m);
      const owner = modelFor(roots, file, settings.modelGlobs, settings.exclude);
      if (owner && owner !== file) schedule(owner); // a SavedModel lost one of its files
      return;
    }
    const model = models.has(file) ? file : modelFor(roots, file, settings.modelGlobs, settings.exclude);
    if (model) schedule(model);
  }

  async function startFsWatchers(): Promise<void> {
    folderWatcher?.close();
    folderWatcher = new FolderWatcher(roots, settings.exclude, onFsEvent, log);
    await folderWatcher.start();
  }

  /** Settings problems go to the log and, once per distinct set, to the user. */
  function reportSettings(problems: string[]): void {
    for (const p of problems) log(`settings: ${p}`);
    const key = problems.join('\n');
    if (key && key !== shownProblems) {
      void connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Warning, message: `LRP Lens: ${problems.join('; ')}` });
    }
    shownProblems = key;
  }

  /** Defaults, then initializationOptions.settings, then the client's lrpLens section, each value checked. */
  async function loadSettings(): Promise<void> {
    const init = checkSettings(initOptions.settings);
    let next = init.settings;
    const problems = [...init.problems];
    if (canPullConfig) {
      try {
        const [cfg] = (await connection.workspace.getConfiguration([{ section: 'lrpLens' }])) as [unknown];
        if (cfg && typeof cfg === 'object') {
          const checked = checkSettings(stripUndefined(cfg), next);
          next = checked.settings;
          problems.push(...checked.problems);
        }
      } catch {
        /* the client did not answer: keep the defaults */
      }
    }
    reportSettings(problems);
    const poolShape = (s: LensSettings) => `${s.workers}|${s.memoryLimitMB}|${s.backend}`;
    const restartPool = pool && poolShape(next) !== poolShape(settings);
    if (next.backend !== settings.backend) activeBackend = undefined;
    settings = next;
    if (restartPool) {
      const old = pool!;
      pool = makePool();
      void old.dispose();
    }
  }

  /** A request's path or file: URI as an absolute path (BAD_INPUT when it is neither). */
  function toPath(p: string, what: string): string {
    let file: string;
    try {
      file = p.startsWith('file:') ? fileURLToPath(p) : p;
    } catch (e) {
      throw new LensError('BAD_INPUT', `${what} is not a file URI: ${(e as Error).message}`);
    }
    if (!isAbsolute(file)) throw new LensError('BAD_INPUT', `${what} must be an absolute path or a file: URI (got ${p})`);
    return file;
  }

  /**
   * A path a request names, confined: inside a workspace folder (after resolving symlinks), or picked by
   * the user in a dialog (lrpLens/allowPaths). Nothing else is read, whatever the trust setting.
   */
  function confined(p: string, what: string): string {
    const file = toPath(p, what);
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      throw new LensError('FILE_NOT_FOUND', `no such ${what}: ${file}`, { file });
    }
    const inside = roots.some((r) => {
      let root: string;
      try {
        root = realpathSync(r);
      } catch {
        return false;
      }
      return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
    });
    if (!inside && !allowedPaths.has(real)) {
      throw new LensError('BAD_INPUT', `${what} ${file} is outside the workspace folders; open it from a folder of the workspace, or pick it in the file dialog`, { file });
    }
    return file;
  }

  /** A model path from a request: confined, and a model by the scan's rule (a regular model file or a SavedModel folder). */
  function resolveModel(model: string, globs: { include: string[]; exclude: string[] } = { include: ['**'], exclude: [] }): string {
    const file = confined(model, 'model file');
    if (allowedPaths.has(realpathSync(file))) return file;
    // A SavedModel's saved_model.pb or variables/ name the folder, which is the model.
    const found = modelFor(roots, file, globs.include, globs.exclude);
    if (!found) throw new LensError('BAD_INPUT', `${file} is not a model file (a regular file or a SavedModel folder in the workspace)`, { file });
    return found;
  }

  function compositeOf(c: ExplainParams['composite']): CompositeChoice {
    if (typeof c === 'string') return { name: c, params: { ...settings.compositeParams } };
    if (c && typeof c === 'object' && typeof c.name === 'string') return { name: c.name, params: { ...(c.params ?? {}) } };
    return { name: settings.composite, params: { ...settings.compositeParams } };
  }

  /** The nearest lrp-lens.json in the model's folder or above it, up to its workspace folder. */
  function projectFileFor(file: string): string | undefined {
    const root = roots.find((r) => file.startsWith(r + sep) || file === r);
    if (!root) return undefined;
    for (let dir = dirname(file); ; dir = dirname(dir)) {
      const p = join(dir, PROJECT_FILE);
      if (existsSync(p)) return p;
      if (dir === root || dirname(dir) === dir) return undefined;
    }
  }

  async function progressReporter(params: { workDoneToken?: unknown }, title: string): Promise<(WorkDoneProgressReporter & { token?: CancellationToken }) | undefined> {
    if (params.workDoneToken !== undefined) {
      const r = connection.window.attachWorkDoneProgress(params.workDoneToken as string);
      r.begin(title, 0, undefined, true);
      return r;
    }
    if (!canProgress) return undefined;
    try {
      const r = await connection.window.createWorkDoneProgress();
      r.begin(title, 0, undefined, true);
      return r;
    } catch {
      return undefined;
    }
  }

  /** Runs an explain or checkData job with progress and both kinds of cancellation. */
  async function runLong<T>(kind: 'explain' | 'checkData', jobId: string, file: string, payload: unknown, token: CancellationToken, params: { workDoneToken?: unknown }): Promise<T> {
    if (!trusted) throw new LensError('USAGE', 'this workspace is not trusted: only static checks run (trust the folder to explain models)');
    if (jobs.has(jobId)) throw new LensError('USAGE', `a job with id ${jobId} is already running`);
    const reporter = await progressReporter(params, `LRP Lens: ${kind === 'explain' ? 'explaining' : 'checking'} ${basename(file)}`);
    const handle = pool!.run<T>(kind, payload, {
      onProgress: (done, total, message) => reporter?.report(total > 0 ? Math.round((100 * done) / total) : 0, message ?? `${done}/${total}`),
    });
    jobs.set(jobId, { kind, model: file, cancel: handle.cancel });
    sendStatus();
    const offCancel = token.onCancellationRequested(() => handle.cancel());
    const offProgressCancel = reporter?.token?.onCancellationRequested(() => handle.cancel());
    try {
      return await handle.promise;
    } finally {
      offCancel.dispose();
      offProgressCancel?.dispose();
      reporter?.done();
      jobs.delete(jobId);
      sendStatus();
    }
  }

  connection.onInitialize(async (params: InitializeParams): Promise<InitializeResult> => {
    const io = params.initializationOptions;
    initOptions = io && typeof io === 'object' && !Array.isArray(io) ? (io as InitializationOptions) : {};
    trusted = initOptions.trusted !== false;
    const folders = params.workspaceFolders?.map((f) => f.uri) ?? (params.rootUri ? [params.rootUri] : []);
    roots = folders.map(pathOfUri).filter((p): p is string => p !== undefined);
    const caps = params.capabilities;
    canPullConfig = caps.workspace?.configuration === true;
    canRegisterWatchers = caps.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
    canProgress = caps.window?.workDoneProgress === true;
    canWorkspaceFolders = caps.workspace?.workspaceFolders === true;
    // Start the workers now: their start-up (loading the core) overlaps the client's next round trips.
    const init = checkSettings(initOptions.settings);
    settings = init.settings;
    reportSettings(init.problems);
    pool = makePool();
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
      },
      serverInfo: { name: 'lrp-lens', version: '0.1.0' },
    };
  });

  connection.onInitialized(async () => {
    if (canWorkspaceFolders) {
      connection.workspace.onDidChangeWorkspaceFolders(async (e) => {
        const gone = new Set(e.removed.map((f) => pathOfUri(f.uri)));
        roots = [...roots.filter((r) => !gone.has(r)), ...e.added.map((f) => pathOfUri(f.uri)).filter((p): p is string => p !== undefined)];
        if (!canRegisterWatchers) await startFsWatchers();
        await scanAll();
      });
    }
    await loadSettings();
    if (canRegisterWatchers) {
      const globs = [...settings.modelGlobs, `**/${PROJECT_FILE}`, '**/*.bin'];
      await connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: globs.map((globPattern) => ({ globPattern })) });
    } else await startFsWatchers();
    await scanAll();
  });

  connection.onDidChangeConfiguration(async () => {
    await loadSettings();
    analysisCache.clear();
    await scanAll();
  });

  connection.onDidChangeWatchedFiles((p) => {
    for (const c of p.changes) {
      const file = pathOfUri(c.uri);
      if (!file) continue;
      if (c.type === FileChangeType.Deleted && models.has(file)) {
        clearTimeout(debounce.get(file));
        forget(file);
      } else onFsEvent(file);
    }
  });

  connection.onRequest(Method.listModels, guarded(async (p: unknown): Promise<ListModelsResult> => {
    const filter = listFilter(p);
    return { models: [...models.values()].map((m) => m.summary).filter((s) => !filter || s.file.includes(filter)) };
  }));

  connection.onRequest(Method.allowPaths, guarded(async (p: unknown): Promise<AllowPathsResult> => {
    // The client sends what the user picked in a file dialog; each is allowed as the file it is now.
    let allowed = 0;
    for (const path of allowPathsParams(p).paths) {
      try {
        allowedPaths.add(realpathSync(toPath(path, 'path')));
        allowed++;
      } catch {
        /* gone already: nothing to allow */
      }
    }
    return { allowed };
  }));

  connection.onRequest(Method.explain, guarded(async (raw: unknown, token: CancellationToken): Promise<ExplainResult> => {
    const params = explainParams(raw);
    const file = resolveModel(params.model);
    if (params.samples?.data) params.samples.data = confined(params.samples.data, 'data file');
    const entry = models.get(file);
    const composite = compositeOf(params.composite);
    const jobId = params.jobId ?? `explain-${++jobCounter}`;
    const hash = entry?.hash ?? (await hashModelFile(file, file.endsWith('.json'))).hash;
    const key = JSON.stringify({ hash, s: params.samples ?? null, composite, t: params.target ?? 'argmax', v: params.variant ?? null, b: settings.backend, ls: params.layerShares !== false, p: stamp(projectFileFor(file)), d: stamp(params.samples?.data) });
    const hit = explainCache.get(key);
    if (hit) return { ...hit, jobId, cached: true };
    const payload: ExplainJobPayload = { file, params: { ...params, layerShares: params.layerShares !== false }, composite, compositeExplicit: params.composite !== undefined, projectFile: projectFileFor(file) };
    const started = Date.now();
    const r = await runLong<Omit<ExplainResult, 'jobId' | 'cached'>>('explain', jobId, file, payload, token, params as { workDoneToken?: unknown });
    const result: ExplainResult = { ...r, jobId, cached: false, durationMs: r.durationMs ?? Date.now() - started };
    if (params.samples) result.selection = { ...params.samples };
    else if (payload.projectFile) result.projectFile = payload.projectFile;
    explainCache.set(key, result);
    activeBackend = result.backend;
    sendStatus();
    if (explainCache.size > 32) explainCache.delete(explainCache.keys().next().value!);
    if (entry && result.layerShares) entry.shares = new Map(result.layerShares.map((s) => [s.layer, s.share]));
    void connection.sendNotification(Notification.explainDone, { result });
    return result;
  }));

  connection.onRequest(Method.checkData, guarded(async (raw: unknown, token: CancellationToken): Promise<CheckDataResult> => {
    const params = checkDataParams(raw);
    const file = resolveModel(params.model);
    if (params.samples?.data) params.samples.data = confined(params.samples.data, 'data file');
    const jobId = params.jobId ?? `check-${++jobCounter}`;
    const payload: CheckDataJobPayload = {
      file,
      params: { model: params.model, samples: params.samples, composite: params.composite },
      composite: compositeOf(params.composite),
      compositeExplicit: params.composite !== undefined,
      projectFile: projectFileFor(file),
      settings: { disabledChecks: settings.disabledChecks },
    };
    const started = Date.now();
    const findings = await runLong<FindingSummary[]>('checkData', jobId, file, payload, token, params as { workDoneToken?: unknown });
    const entry = models.get(file);
    if (entry) {
      entry.mapFindings = findings;
      publish(file);
    }
    return { jobId, model: file, findings, durationMs: Date.now() - started };
  }));

  connection.onRequest(Method.cancel, guarded(async (p: unknown) => {
    const job = jobs.get(jobIdParam(p));
    if (!job) return { cancelled: false };
    job.cancel();
    return { cancelled: true };
  }));

  connection.onRequest(Method.reanalyze, guarded(async (raw: unknown): Promise<ReanalyzeResult> => {
    const p = reanalyzeParams(raw);
    if (p?.model) {
      // A model of the workspace's own globs: any other path (/etc/passwd) is no model to list.
      const file = resolveModel(p.model, { include: settings.modelGlobs, exclude: settings.exclude });
      analysisCache.clear();
      explainCache.clear();
      await analyze(file);
      return { models: 1 };
    }
    analysisCache.clear();
    explainCache.clear();
    await scanAll();
    return { models: models.size };
  }));

  connection.onRequest(Method.renderPng, guarded(async (req: unknown): Promise<{ base64: string }> => {
    // Loaded on first use: sharp is a native module, not needed to serve diagnostics.
    const { renderPngRequest } = await import('./core/render/png-request.js').catch((e: Error) => {
      throw new LensError('BACKEND_UNAVAILABLE', `PNG export needs the sharp package, which did not load here (${e.message.split('\n')[0]})`);
    });
    const png = await renderPngRequest(req as Parameters<typeof renderPngRequest>[0]);
    return { base64: png.toString('base64') };
  }));

  connection.onHover((p) => {
    const path = pathOfUri(p.textDocument.uri);
    const entry = path ? models.get(path) : undefined;
    if (!entry || entry.summary.state !== 'ok') return null;
    const text = documents.get(p.textDocument.uri)?.getText() ?? entry.text;
    if (text === undefined) return null;
    const doc = TextDocument.create(p.textDocument.uri, 'json', 0, text);
    const layer = layerAt(entry.summary, doc.offsetAt(p.position));
    if (!layer) return null;
    const r = layer.jsonRange!;
    return {
      contents: { kind: 'markdown', value: layerHover(entry.summary, layer, entry.shares?.get(layer.name), docsHref) },
      range: { start: doc.positionAt(r[0]), end: doc.positionAt(r[1]) },
    };
  });

  connection.onCodeAction((p) => {
    const uri = p.textDocument.uri;
    const text = documents.get(uri)?.getText();
    return codeActionsFor(uri, p.context.diagnostics, { roots, projectText: text, settings });
  });

  connection.onShutdown(async () => {
    folderWatcher?.close();
    for (const t of debounce.values()) clearTimeout(t);
    await pool?.dispose();
  });

  // The project file is checked as it is typed, not only when saved.
  documents.onDidChangeContent((e) => {
    if (!e.document.uri.startsWith('file:') || basename(e.document.uri) !== PROJECT_FILE) return;
    const file = pathOfUri(e.document.uri);
    if (!file) return;
    clearTimeout(debounce.get(file));
    debounce.set(file, setTimeout(() => void validateProject(file, e.document.getText()), 300));
  });

  documents.listen(connection);
  connection.listen();
  return connection;
}

/**
 * Errors leave a request as ResponseErrors carrying the structured error in `data`; a cancelled job
 * as RequestCancelled (what LSP clients expect after $/cancelRequest).
 */
export function guarded<P, R>(fn: (p: P, token: CancellationToken) => Promise<R>): (p: P, token: CancellationToken) => Promise<R> {
  return async (p, token) => {
    try {
      return await fn(p, token);
    } catch (e) {
      const err = toLensError(e);
      const code = err.code === 'CANCELLED' ? LSPErrorCodes.RequestCancelled : err.code === 'INTERNAL' ? ErrorCodes.InternalError : LSPErrorCodes.RequestFailed;
      throw new ResponseError(code, `${err.code}: ${err.message}`, err.toJSON());
    }
  };
}

/** The local path of a file: URI; undefined for other schemes and for URIs that name no local file. */
function pathOfUri(uri: unknown): string | undefined {
  if (typeof uri !== 'string' || !uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

/** Path, size and modification time: a changed data or project file is a different cache entry. */
function stamp(file: string | undefined): string | null {
  if (!file) return null;
  try {
    const st = statSync(file);
    return `${file}:${st.size}:${st.mtimeMs}`;
  } catch {
    return file;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null) (out as Record<string, unknown>)[k] = v;
  return out;
}
