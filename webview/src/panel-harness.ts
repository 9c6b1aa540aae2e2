/**
 * Test support for the panel: opens the bundled page in headless Chromium with a stubbed
 * acquireVsCodeApi, and answers its requests the way the extension host does, with real results from
 * the LRP engine (core/lrp) and the artifact checks (core/artifacts) on real models and data.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO, REF } from '../../server/src/testing/paths.js';
import { panelHtml, makeNonce } from '../../client/src/panel-html.js';
import { readNpy } from '../../server/src/core/data/npy.js';
import type { NdArray } from '../../server/src/core/array.js';
import { useBackend } from '../../server/src/core/backend.js';
import { loadModel } from '../../server/src/core/model/load.js';
import { GraphBuilder, rng } from '../../server/src/core/lrp/test-graphs.js';
import { runStaticChecks } from '../../server/src/core/artifacts/catalogue.js';
import { COMPOSITE_NAMES } from '../../server/src/core/names.js';
import { explain, openSession } from '../../server/src/core/session/session.js';
import { requestLayer } from '../../server/src/core/session/composite-choice.js';
import { explainResult } from '../../server/src/lsp/explain-job.js';
import type { Finding } from '../../server/src/core/artifacts/finding.js';
import type { ModelGraph } from '../../server/src/core/model/graph.js';
import type { DataDescription, EntryDraft, PlanInputResult, SaveEntryResult } from '../../server/src/protocol.js';
import {
  encodeBytes, encodeFloat32, parseToHost, type FindingSummary, type ModelSummary, type PanelExplainParams,
  type PanelResult, type PanelState, type ToHost, type ToWebview,
} from './messages.js';
import { loadSst, sstAnomaly, upsample, type SstField } from '../../server/src/testing/sst-fixtures.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run',
];
const ORIGIN = 'https://panel.test';

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** Theme variables VS Code injects (a subset of Light Modern, Dark Modern and Dark High Contrast). */
export const THEMES: Record<'light' | 'dark' | 'hc', { bodyClass: string; vars: Record<string, string> }> = {
  light: {
    bodyClass: 'vscode-light',
    vars: {
      'settings-textInputBackground': '#ffffff', 'settings-textInputForeground': '#3b3b3b', 'settings-textInputBorder': '#cecece',
      'settings-dropdownBackground': '#ffffff', 'settings-dropdownForeground': '#3b3b3b', 'settings-dropdownBorder': '#cecece',
      'settings-dropdownListBorder': '#cecece', 'settings-headerBorder': '#e5e5e5', 'widget-shadow': '#00000029',
      foreground: '#3b3b3b', 'editor-background': '#ffffff', descriptionForeground: '#717171', focusBorder: '#005fb8',
      'button-background': '#005fb8', 'button-foreground': '#ffffff', 'button-hoverBackground': '#0258a8',
      'button-secondaryBackground': '#e5e5e5', 'button-secondaryForeground': '#3b3b3b', 'button-secondaryHoverBackground': '#cccccc',
      'input-background': '#ffffff', 'input-foreground': '#3b3b3b', 'input-border': '#cecece', 'input-placeholderForeground': '#767676',
      'dropdown-background': '#ffffff', 'dropdown-border': '#cecece', 'dropdown-foreground': '#3b3b3b', 'dropdown-listBackground': '#ffffff',
      'checkbox-background': '#f8f8f8', 'checkbox-border': '#cecece', 'checkbox-foreground': '#3b3b3b',
      'settings-checkboxBackground': '#f8f8f8', 'settings-checkboxBorder': '#cecece', 'settings-checkboxForeground': '#3b3b3b',
      'panel-border': '#e5e5e5', 'widget-border': '#e5e5e5', 'textLink-foreground': '#005fb8', errorForeground: '#f85149',
      'editorWarning-foreground': '#bf8803', 'list-activeSelectionBackground': '#e8e8e8', 'list-activeSelectionForeground': '#000000',
      'progressBar-background': '#005fb8', 'panelTitle-activeForeground': '#3b3b3b', 'panelTitle-activeBorder': '#005fb8',
      'panelTitle-inactiveForeground': '#3b3b3b99', 'panel-background': '#f8f8f8', 'charts-blue': '#1a85ff',
      'list-hoverBackground': '#f2f2f2', 'list-activeSelectionIconForeground': '#000', 'quickInput-background': '#f8f8f8',
    },
  },
  dark: {
    bodyClass: 'vscode-dark',
    vars: {
      'settings-textInputBackground': '#313131', 'settings-textInputForeground': '#cccccc', 'settings-textInputBorder': '#3c3c3c',
      'settings-dropdownBackground': '#313131', 'settings-dropdownForeground': '#cccccc', 'settings-dropdownBorder': '#3c3c3c',
      'settings-dropdownListBorder': '#454545', 'settings-headerBorder': '#2b2b2b', 'widget-shadow': '#0000005c',
      foreground: '#cccccc', 'editor-background': '#1f1f1f', descriptionForeground: '#9d9d9d', focusBorder: '#0078d4',
      'button-background': '#0078d4', 'button-foreground': '#ffffff', 'button-hoverBackground': '#026ec1',
      'button-secondaryBackground': '#313131', 'button-secondaryForeground': '#cccccc', 'button-secondaryHoverBackground': '#3c3c3c',
      'input-background': '#313131', 'input-foreground': '#cccccc', 'input-border': '#3c3c3c', 'input-placeholderForeground': '#989898',
      'dropdown-background': '#313131', 'dropdown-border': '#3c3c3c', 'dropdown-foreground': '#cccccc', 'dropdown-listBackground': '#1f1f1f',
      'checkbox-background': '#313131', 'checkbox-border': '#3c3c3c', 'checkbox-foreground': '#cccccc',
      'settings-checkboxBackground': '#313131', 'settings-checkboxBorder': '#3c3c3c', 'settings-checkboxForeground': '#cccccc',
      'panel-border': '#2b2b2b', 'widget-border': '#313131', 'textLink-foreground': '#4daafc', errorForeground: '#f85149',
      'editorWarning-foreground': '#cca700', 'list-activeSelectionBackground': '#04395e', 'list-activeSelectionForeground': '#ffffff',
      'progressBar-background': '#0078d4', 'panelTitle-activeForeground': '#cccccc', 'panelTitle-activeBorder': '#0078d4',
      'panelTitle-inactiveForeground': '#9d9d9d', 'panel-background': '#181818', 'charts-blue': '#3794ff',
      'list-hoverBackground': '#2a2d2e', 'list-activeSelectionIconForeground': '#fff', 'quickInput-background': '#222222',
    },
  },
  hc: {
    bodyClass: 'vscode-high-contrast',
    vars: {
      'settings-textInputBackground': '#000000', 'settings-textInputForeground': '#ffffff', 'settings-textInputBorder': '#6fc3df',
      'settings-dropdownBackground': '#000000', 'settings-dropdownForeground': '#ffffff', 'settings-dropdownBorder': '#6fc3df',
      'settings-dropdownListBorder': '#6fc3df', 'settings-headerBorder': '#6fc3df', 'list-focusOutline': '#f38518',
      foreground: '#ffffff', 'editor-background': '#000000', descriptionForeground: '#ffffff', focusBorder: '#f38518', contrastBorder: '#6fc3df',
      'button-background': '#000000', 'button-foreground': '#ffffff', 'button-border': '#6fc3df',
      'button-secondaryBackground': '#000000', 'button-secondaryForeground': '#ffffff',
      'input-background': '#000000', 'input-foreground': '#ffffff', 'input-border': '#6fc3df',
      'dropdown-background': '#000000', 'dropdown-border': '#6fc3df', 'dropdown-foreground': '#ffffff', 'dropdown-listBackground': '#000000',
      'checkbox-background': '#000000', 'checkbox-border': '#6fc3df', 'settings-checkboxBackground': '#000000', 'settings-checkboxBorder': '#6fc3df',
      'panel-border': '#6fc3df', 'widget-border': '#6fc3df', 'textLink-foreground': '#21a6ff', errorForeground: '#f48771',
      'editorWarning-foreground': '#ffd370', 'list-activeSelectionBackground': '#000000', 'list-activeSelectionForeground': '#ffffff',
      'progressBar-background': '#6fc3df', 'panelTitle-activeForeground': '#ffffff', 'panelTitle-activeBorder': '#6fc3df', 'charts-blue': '#3794ff',
    },
  },
};

/** How the stub host answers: like the extension host with the language server behind it. */
export interface Scenario {
  models: ModelSummary[];
  composites: string[];
  explain(p: PanelExplainParams): Promise<PanelResult>;
  /** The data form's requests (describeData, planInput, saveEntry), where the scenario has data files. */
  dataForm?: {
    describe(file: string, model?: string): Promise<DataDescription>;
    plan(model: string, entry: EntryDraft): Promise<PlanInputResult>;
    save(model: string, entry: EntryDraft): Promise<SaveEntryResult>;
  };
}

export interface PanelPage {
  page: Page;
  /** Every message the page sent, validated by the host's own validator (invalid ones are kept as null). */
  received: (ToHost | null)[];
  send(m: ToWebview): Promise<void>;
  waitFor<T extends ToHost['type']>(type: T, after?: number, timeoutMs?: number): Promise<Extract<ToHost, { type: T }>>;
  /** The page's console and errors so far. */
  logs: string[];
  /** Every result the host sent, in order. */
  results: PanelResult[];
  cspViolations(): Promise<string[]>;
}

/** The test's own build of the page (dist/ belongs to the packaging build, which may be rebuilding it). */
const BUILD = join(REPO, 'out', 'test-tmp', 'panel-webview');

export async function bundle(): Promise<void> {
  const mod = (await import(pathToFileURL(join(REPO, 'scripts', 'bundle-webview.js')).href)) as { bundleWebview(o?: { dev?: boolean; outDir?: string }): Promise<unknown> };
  await mod.bundleWebview({ outDir: BUILD });
}

export async function openPanel(browser: Browser, theme: keyof typeof THEMES, scenario: Scenario, opts: { width?: number; height?: number; state?: Partial<PanelState>; explainDelayMs?: number } = {}): Promise<PanelPage> {
  const dist = BUILD;
  const files = { '/panel.js': readFileSync(join(dist, 'panel.js')), '/panel.css': readFileSync(join(dist, 'panel.css')) };
  const nonce = makeNonce();
  const html = panelHtml(readFileSync(join(dist, 'panel.html'), 'utf8'), {
    cspSource: ORIGIN, nonce, scriptUri: `${ORIGIN}/panel.js`, styleUri: `${ORIGIN}/panel.css`,
  });
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const logs: string[] = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  if (process.env.LRP_PANEL_DEBUG) page.on('console', (m) => console.log(`[page] ${m.type()}: ${m.text()}`));
  if (process.env.LRP_PANEL_DEBUG) page.on('pageerror', (e) => console.log(`[page] error: ${e.message}`));
  await page.route(`${ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/index.html') return route.fulfill({ status: 200, contentType: 'text/html', body: html });
    const body = files[url.pathname as keyof typeof files];
    if (!body) return route.fulfill({ status: 404, body: '' });
    return route.fulfill({ status: 200, contentType: url.pathname.endsWith('.js') ? 'text/javascript' : 'text/css', body });
  });
  // Anything else (remote content) must never be asked for: the CSP blocks it, this makes sure.
  await page.route((u) => !u.href.startsWith(ORIGIN) && !u.href.startsWith('data:') && !u.href.startsWith('blob:'), (route) => route.abort());
  const received: (ToHost | null)[] = [];
  const results: PanelResult[] = [];
  const waiters: { type: string; after: number; resolve: (m: ToHost) => void }[] = [];
  const send = async (m: ToWebview) => {
    await page.evaluate((json) => window.postMessage(JSON.parse(json), '*'), JSON.stringify(m));
  };
  const th = THEMES[theme];
  // A string, not a function: tsx's name helpers would not exist in the page.
  await page.addInitScript(`(() => {
    const vars = ${JSON.stringify(th.vars)};
    const bodyClass = ${JSON.stringify(th.bodyClass)};
    let saved = ${JSON.stringify(opts.state ?? null)} ?? undefined;
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
    window.acquireVsCodeApi = () => ({
      postMessage: (m) => window.__toHost(JSON.stringify(m)),
      getState: () => saved,
      setState: (s) => { saved = s; },
    });
    // As VS Code does: theme variables on <html>, the theme kind as a class on <body>.
    const applyVars = () => {
      const st = document.documentElement.style;
      for (const [k, v] of Object.entries(vars)) st.setProperty('--vscode-' + k, v);
      st.setProperty('--vscode-font-family', 'system-ui, "DejaVu Sans", sans-serif');
      st.setProperty('--vscode-font-size', '13px');
      st.setProperty('--vscode-editor-font-family', '"DejaVu Sans Mono", monospace');
    };
    if (document.documentElement) applyVars();
    else new MutationObserver((_, obs) => { if (document.documentElement) { applyVars(); obs.disconnect(); } }).observe(document, { childList: true });
    document.addEventListener('DOMContentLoaded', () => document.body.classList.add(bodyClass));
  })();`);
  await page.exposeFunction('__toHost', (json: string) => {
    const m = parseToHost(JSON.parse(json)) ?? null;
    received.push(m);
    if (m) {
      for (const w of [...waiters]) if (w.type === m.type && received.length > w.after) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m); }
      void answer(m);
    }
  });
  const answer = async (m: ToHost) => {
    try {
      if (m.type === 'ready') {
        await send({ type: 'init', models: scenario.models, composites: scenario.composites, backends: ['auto', 'wasm', 'cpu'], state: m.state ? { ...m.state, ...opts.state } : undefined });
      } else if (m.type === 'explain') {
        await send({ type: 'progress', requestId: m.requestId, percentage: 10, message: 'Explaining…' });
        // A slow server: the page must stay usable and cancellable meanwhile.
        if (opts.explainDelayMs) await new Promise((r) => setTimeout(r, opts.explainDelayMs));
        const result = await scenario.explain(m.params);
        results.push(result);
        await send({ type: 'result', requestId: m.requestId, purpose: m.purpose, result: { ...result, jobId: m.params.jobId ?? m.requestId } });
      } else if (m.type === 'describeData' && scenario.dataForm) {
        await send({ type: 'dataDescribed', requestId: m.requestId, description: await scenario.dataForm.describe(m.file, m.model) });
      } else if (m.type === 'planInput' && scenario.dataForm) {
        await send({ type: 'planned', requestId: m.requestId, plan: await scenario.dataForm.plan(m.model, m.entry) });
      } else if (m.type === 'saveEntry' && scenario.dataForm) {
        await send({ type: 'entrySaved', requestId: m.requestId, saved: await scenario.dataForm.save(m.model, m.entry) });
      }
    } catch (e) {
      if (page.isClosed()) return; // the test closed the page while the stub was answering
      await send({ type: 'error', requestId: 'requestId' in m ? m.requestId : undefined, code: (e as { code?: string }).code ?? 'ERROR', message: (e as Error).message })
        .catch(() => undefined);
    }
  };
  await page.goto(`${ORIGIN}/index.html`);
  return {
    page,
    received,
    send,
    logs,
    results,
    waitFor: (type, after = 0, timeoutMs = 60000) => new Promise((resolve, reject) => {
      const hit = received.slice(after).find((m) => m?.type === type);
      if (hit) { resolve(hit as never); return; }
      const timer = setTimeout(() => reject(new Error(`no '${type}' message from the panel in ${timeoutMs} ms; page log:\n${logs.join('\n')}`)), timeoutMs);
      waiters.push({ type, after, resolve: (m) => { clearTimeout(timer); resolve(m as never); } });
    }),
    cspViolations: () => page.evaluate(() => (window as unknown as { __csp: string[] }).__csp),
  };
}

// ------------------------------------------------------------------ scenarios with real results

function summaryOf(f: Finding): FindingSummary {
  return { code: f.code, severity: f.severity, message: f.message, remedy: f.remedy, docs: f.docs, layer: f.layer, file: f.location.file, range: f.location.range, data: f.data };
}

function modelSummary(graph: ModelGraph, findings: Finding[]): ModelSummary {
  return {
    uri: pathToFileURL(graph.file).href, file: graph.file, name: graph.name, state: 'ok',
    format: graph.format, inputs: [], outputs: [], layers: [], totalParams: 0, findings: findings.map(summaryOf),
  };
}

/** The server's answer, from the same session and result conversion as its explain job (lsp/explain-job.ts). */
async function toResult(graph: ModelGraph, x: NdArray, p: PanelExplainParams, t0: number): Promise<PanelResult> {
  const session = await openSession({ model: graph, data: { kind: 'array', x }, request: requestLayer(p) });
  const e = await explain(session, { indices: p.samples?.indices, maxSamples: p.samples?.maxSamples, defaultMax: Infinity, variant: p.variant });
  const r = explainResult(session, e, { file: p.model, params: p }, 'wasm', t0);
  return { ...r, jobId: p.jobId ?? '', model: p.model, cached: false, durationMs: performance.now() - t0 };
}

/** The Zennit reference CNN (TF.js file, NHWC, 16x32 inputs, 8 samples) with its static findings. */
export async function cnnScenario(): Promise<Scenario & { graph: ModelGraph; x: NdArray }> {
  await useBackend('wasm');
  const graph = await loadModel(join(REF, 'cnn_same', 'tfjs', 'model.json'));
  const x = readNpy(readFileSync(join(REF, 'cnn_same', 'x_nhwc.npy')));
  const findings = runStaticChecks(graph);
  return {
    graph, x,
    models: [modelSummary(graph, findings)],
    composites: [...COMPOSITE_NAMES],
    explain: (p) => toResult(graph, x, p, performance.now()),
  };
}

/** Weights of the Nino-3.4 index (mean over ocean cells of 5S-5N, 170W-120W) on a lat/lon grid. */
function nino34Weights(lat: number[], lon: number[], ocean: (i: number) => boolean): Float32Array {
  const w = new Float32Array(lat.length * lon.length);
  let n = 0;
  lat.forEach((la, r) => lon.forEach((lo, c) => {
    const i = r * lon.length + c;
    if (la >= -5 && la <= 5 && lo >= 190 && lo <= 240 && ocean(i)) { w[i] = 1; n++; }
  }));
  for (let i = 0; i < w.length; i++) w[i] /= n;
  return w;
}

/**
 * A real field through the real engine: ERSSTv5 anomalies (land filled with 0, as a data pipeline
 * would, and masked) explained for the Nino-3.4 index read as a linear model (Flatten, Dense 1).
 */
export async function sstScenario(opts: { months: number[]; grid?: '2deg' | '0.25deg'; sst?: SstField }): Promise<Scenario & { sst: SstField; mask: Uint8Array; height: number; width: number }> {
  await useBackend('wasm');
  const sst = opts.sst ?? (await loadSst());
  let lat = sst.lat;
  let lon = sst.lon;
  let fields = opts.months.map((m) => sstAnomaly(sst, m));
  if (opts.grid === '0.25deg') {
    const up = fields.map((f) => upsample(sst, f));
    lat = up[0].lat;
    lon = up[0].lon;
    fields = up.map((u) => u.data);
  }
  const H = lat.length;
  const W = lon.length;
  const mask = new Uint8Array(H * W);
  for (let i = 0; i < mask.length; i++) if (!Number.isFinite(fields[0][i])) mask[i] = 1;
  const b = new GraphBuilder(rng(1), [null, H, W, 1]);
  b.flatten();
  b.dense(1, H * W, { bias: false, name: 'nino34' });
  const graph = b.build(`nino34-linear-${opts.grid ?? '2deg'}`);
  graph.file = join(REPO, 'samples', `${graph.name}.synthetic`);
  const dense = graph.nodes.find((n) => n.kind === 'Dense')!;
  dense.weights.kernel.data.set(nino34Weights(lat, lon, (i) => !mask[i]));
  const filled = new Float32Array(fields.length * H * W);
  fields.forEach((f, k) => { for (let i = 0; i < f.length; i++) filled[k * H * W + i] = mask[i] ? 0 : f[i]; });
  const x: NdArray = { shape: [fields.length, H, W, 1], data: filled, dtype: 'f4' };
  const maskB64 = encodeBytes(mask);
  return {
    sst, mask, height: H, width: W,
    models: [modelSummary(graph, [])],
    composites: ['epsilon', 'epsilon-plus'],
    explain: async (p) => {
      const r = await toResult(graph, x, { ...p, target: 0 }, performance.now());
      // The panel shows the field with NaN on land (its mask); the model saw zeros there.
      const shown = new Float32Array(filled);
      for (let k = 0; k < fields.length; k++) for (let i = 0; i < H * W; i++) if (mask[i]) shown[k * H * W + i] = NaN;
      return { ...r, input: encodeFloat32(shown, x.shape), coords: { lat, lon }, mask: maskB64, inputUnits: 'degC', samples: opts.months };
    },
  };
}
