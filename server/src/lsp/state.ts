/**
 * Everything the language server holds between messages, in one object (rust-analyzer's GlobalState):
 * the connection and open documents, the models and their caches, running jobs, the workspace roots
 * and settings, the worker pool. Handlers (handlers/*.ts) are functions of it; this module keeps only
 * the state and the small questions asked of it (is this path inside the workspace, which model is it).
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShowMessageNotification, MessageType, TextDocuments, type Connection } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { LensError } from '../core/errors.js';
import { GlobSet } from '../core/glob.js';
import { DEFAULT_SETTINGS, type CompositeChoice, type ExplainParams, type ExplainResult, type FindingSummary, type InitializationOptions, type LensSettings, type ModelSummary, type NotificationMethod, type Notifications } from '../protocol.js';
import { BoundedCache } from './cache.js';
import { analysisKeyString, explainKeyString, type AnalysisKey, type ExplainKey } from './cache-keys.js';
import type { DocsHref } from './convert.js';
import { Debouncer } from './debounce.js';
import { modelFor, type Discovered, type DiscoveryOptions } from './discovery.js';
import { docsHrefFor, findDocsRoot } from './docs-href.js';
import { WorkerPool, defaultWorkerScript } from './pool.js';
import { PROJECT_FILE } from './project.js';
import type { FolderWatcher } from './watch.js';

export interface ServerOptions {
  /** Worker script; default: worker.js (or .ts under tsx) next to pool.ts. */
  workerScript?: URL;
}

export interface ModelEntry {
  summary: ModelSummary;
  text?: string;
  hash?: string;
  /** Relevance-map findings from the last checkData. */
  mapFindings: FindingSummary[];
  /** Layer -> share of |relevance| from the last explain. */
  shares?: Map<string, number>;
}

export type JobKind = 'analyze' | 'explain' | 'checkData';

export interface RunningJob {
  kind: JobKind;
  model: string;
  cancel(): void;
}

/** What the client said it can do, in initialize. */
export interface ClientAbilities {
  pullConfig: boolean;
  registerWatchers: boolean;
  progress: boolean;
  workspaceFolders: boolean;
}

/** Any path a request names may be a model (resolveModel's default; reanalyze narrows it to the model globs). */
const ANY_FILE = new GlobSet(['**'], []);

/** Analyses cached (by content and settings); explanations cached (they hold whole relevance maps). */
const ANALYSES_KEPT = 1000;
const EXPLANATIONS_KEPT = 32;

export class ServerState {
  readonly documents = new TextDocuments(TextDocument);
  readonly models = new Map<string, ModelEntry>();
  readonly analysisCache = new BoundedCache<AnalysisKey, ModelSummary>(ANALYSES_KEPT, analysisKeyString);
  readonly explainCache = new BoundedCache<ExplainKey, ExplainResult>(EXPLANATIONS_KEPT, explainKeyString);
  /** Bumped per file on every change, so a late analysis of an old version is dropped. */
  readonly versions = new Map<string, number>();
  readonly debounce = new Debouncer();
  /** Client job ids -> running jobs (with their cancel functions). */
  readonly jobs = new Map<string, RunningJob>();
  /** The URI each model's diagnostics were last published at, so they are cleared there even after the folder is gone. */
  readonly publishedAt = new Map<string, string>();
  /** Project files with diagnostics published. */
  readonly projectPublished = new Set<string>();
  /** Per project file: the number of its latest validation; an older one that ends later is dropped. */
  readonly projectRuns = new Map<string, number>();
  /** Real paths outside the workspace folders that the user picked in a dialog (lrpLens/allowPaths). */
  readonly allowedPaths = new Set<string>();
  readonly docsHref: DocsHref;
  folderWatcher?: FolderWatcher;
  /** The settings problems last shown, so one bad value is not announced on every reload. */
  shownProblems = '';
  initOptions: InitializationOptions = {};
  trusted = true;
  clientCan: ClientAbilities = { pullConfig: false, registerWatchers: false, progress: false, workspaceFolders: false };
  /** The tfjs backend the last explanation actually ran on ('auto' resolves to one). */
  activeBackend: string | undefined;

  private pool: WorkerPool | undefined;
  private jobCounter = 0;
  private rootList: string[] = [];
  /** The roots' real paths, resolved once per roots change (undefined: not yet, or a root did not resolve). */
  private realRoots: string[] | undefined;
  private current: LensSettings = { ...DEFAULT_SETTINGS };
  private modelGlobSet = new GlobSet(DEFAULT_SETTINGS.modelGlobs, DEFAULT_SETTINGS.exclude);

  constructor(
    readonly connection: Connection,
    private readonly opts: ServerOptions = {},
  ) {
    this.docsHref = docsHrefFor(findDocsRoot(), () => this.initOptions.docsBaseUrl);
  }

  log(msg: string): void {
    this.connection.console.log(`[lrp-lens] ${msg}`);
  }

  notify<N extends NotificationMethod>(method: N, params: Notifications[N]): void {
    void this.connection.sendNotification(method, params);
  }

  warn(message: string): void {
    void this.connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Warning, message });
  }

  get roots(): readonly string[] {
    return this.rootList;
  }

  set roots(roots: readonly string[]) {
    this.rootList = [...roots];
    this.realRoots = undefined;
  }

  get settings(): LensSettings {
    return this.current;
  }

  /** The model globs of the settings, compiled once per settings change. */
  get modelGlobs(): GlobSet {
    return this.modelGlobSet;
  }

  /** New settings; the worker pool restarts when its shape (size, memory, backend) changed. */
  applySettings(next: LensSettings): void {
    const poolShape = (s: LensSettings) => `${s.workers}|${s.memoryLimitMB}|${s.backend}`;
    const restartPool = this.pool && poolShape(next) !== poolShape(this.current);
    if (next.backend !== this.current.backend) this.activeBackend = undefined;
    this.current = next;
    this.modelGlobSet = new GlobSet(next.modelGlobs, next.exclude);
    if (restartPool) {
      const old = this.pool!;
      this.pool = this.makePool();
      void old.dispose();
    }
  }

  /** Starts the workers (at initialize: their start-up overlaps the client's next round trips). */
  startWorkers(): void {
    this.pool ??= this.makePool();
  }

  get workers(): WorkerPool {
    if (!this.pool) throw new LensError('INTERNAL', 'the server was not initialized');
    return this.pool;
  }

  async disposeWorkers(): Promise<void> {
    await this.pool?.dispose();
  }

  private makePool(): WorkerPool {
    const script = this.opts.workerScript ?? defaultWorkerScript();
    // Bundled: the .wasm files sit next to dist/worker.js (scripts/bundle.js copies them there).
    const scriptDir = dirname(fileURLToPath(script));
    const wasmDir = existsSync(join(scriptDir, 'tfjs-backend-wasm.wasm')) ? scriptDir : process.env.LRP_LENS_WASM_DIR;
    const s = this.current;
    return new WorkerPool({
      script,
      size: Math.max(1, Math.min(8, s.workers)),
      resourceLimits: { maxOldGenerationSizeMb: s.memoryLimitMB },
      workerData: { backend: s.backend, wasmDir },
      onCrash: ({ kind, error }) => {
        this.log(`worker crashed during ${kind}: ${error.message}; replaced`);
        this.warn(`LRP Lens: a worker crashed during ${kind} (${error.message}). It was replaced.`);
      },
    });
  }

  /** A scan of the workspace folders, on a worker thread: the protocol thread only answers requests. */
  discover(opts: DiscoveryOptions): Promise<Discovered> {
    return this.workers.run<Discovered>('discover', { roots: this.rootList, opts }).promise;
  }

  nextJobId(prefix: string): string {
    return `${prefix}-${++this.jobCounter}`;
  }

  /** A new version of the file (a change, a delete): analyses of older versions that end later are dropped. */
  bumpVersion(file: string): number {
    const v = (this.versions.get(file) ?? 0) + 1;
    this.versions.set(file, v);
    return v;
  }

  /** The model a changed path belongs to under the settings' globs (discovery.ts modelFor). */
  modelOf(file: string): string | undefined {
    return modelFor(this.rootList, file, this.modelGlobSet);
  }

  /** A request's path or file: URI as an absolute path (BAD_INPUT when it is neither). */
  toPath(p: string, what: string): string {
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
  confined(p: string, what: string): string {
    return this.confine(p, what).file;
  }

  private confine(p: string, what: string): { file: string; real: string } {
    const file = this.toPath(p, what);
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      throw new LensError('FILE_NOT_FOUND', `no such ${what}: ${file}`, { file });
    }
    const inside = this.realRootPaths().some((root) => real === root || real.startsWith(root.endsWith(sep) ? root : root + sep));
    if (!inside && !this.allowedPaths.has(real)) {
      throw new LensError('BAD_INPUT', `${what} ${file} is outside the workspace folders; open it from a folder of the workspace, or pick it in the file dialog`, { file });
    }
    return { file, real };
  }

  /** The roots' real paths; a root that does not resolve (not there yet) is left out and tried again next time. */
  private realRootPaths(): string[] {
    if (this.realRoots) return this.realRoots;
    const real: string[] = [];
    for (const r of this.rootList) {
      try {
        real.push(realpathSync(r));
      } catch {
        /* not there: nothing is inside it */
      }
    }
    if (real.length === this.rootList.length) this.realRoots = real;
    return real;
  }

  /** A model path from a request: confined, and a model by the scan's rule (a regular model file or a SavedModel folder). */
  resolveModel(model: string, globs: GlobSet = ANY_FILE): string {
    const { file, real } = this.confine(model, 'model file');
    if (this.allowedPaths.has(real)) return file;
    // A SavedModel's saved_model.pb or variables/ name the folder, which is the model.
    const found = modelFor(this.rootList, file, globs);
    if (!found) throw new LensError('BAD_INPUT', `${file} is not a model file (a regular file or a SavedModel folder in the workspace)`, { file });
    return found;
  }

  /** The request's composite, else the lrpLens.composite setting; the setting's parameters for a bare name. */
  compositeOf(c: ExplainParams['composite']): CompositeChoice {
    const s = this.current;
    if (typeof c === 'string') return { name: c, params: { ...s.compositeParams } };
    if (c && typeof c === 'object' && typeof c.name === 'string') return { name: c.name, params: { ...(c.params ?? {}) } };
    return { name: s.composite, params: { ...s.compositeParams } };
  }

  /** The nearest lrp-lens.json in the model's folder or above it, up to its workspace folder. */
  projectFileFor(file: string): string | undefined {
    const root = this.rootList.find((r) => file.startsWith(r + sep) || file === r);
    if (!root) return undefined;
    for (let dir = dirname(file); ; dir = dirname(dir)) {
      const p = join(dir, PROJECT_FILE);
      if (existsSync(p)) return p;
      if (dir === root || dirname(dir) === dir) return undefined;
    }
  }
}
