/**
 * End to end in a real VS Code: code-server (scripts/setup-code-server.sh) with the packaged .vsix
 * installed, driven by playwright-core and Debian's Chromium. Opens a folder of sample models, checks the
 * Problems panel shows the expected codes, opens a model in the read-only viewer, runs
 * "LRP Lens: Explain model" and checks the panel opens. Screenshots go to out/screenshots/vscode-*.png.
 *
 * Usage: npm run package && npx tsx scripts/vscode-e2e.ts   (or npm run test:e2e)
 * Environment: CODE_SERVER_DIR (default ~/.cache/lrp-lens/code-server-4.100.3), CHROMIUM (/usr/bin/chromium).
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import AjvModule from 'ajv';
import { REAL, REF, REPO, SAMPLES, scratchDir } from '../server/src/testing/paths.js';

const CS_DIR = process.env.CODE_SERVER_DIR ?? join(homedir(), '.cache', 'lrp-lens', 'code-server-4.100.3');
const ENTRY = join(CS_DIR, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const VSIX = join(REPO, 'out', 'lrp-lens.vsix');
const SHOTS = join(REPO, 'out', 'screenshots');

const base = scratchDir('vscode-e2e');
const ws = join(base, 'workspace');
const userData = join(base, 'user-data');
// Outside the repository, as in a real install: from under the repo, Node would find the checkout's
// node_modules (sharp, ...) above the installed extension and hide what the .vsix lacks.
const extDir = join(tmpdir(), `lrp-lens-e2e-extensions-${process.pid}`);
let server: ChildProcess | undefined;
let browser: Browser | undefined;
let page: Page;
const serverLog: string[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function copy(src: string, rel: string): void {
  mkdirSync(join(ws, rel, '..'), { recursive: true });
  copyFileSync(src, join(ws, rel));
  chmodSync(join(ws, rel), 0o644);
}

/** The samples folder (models, data, lrp-lens.json) where it has models, plus known real files. */
function makeWorkspace(): void {
  rmSync(ws, { recursive: true, force: true });
  mkdirSync(ws, { recursive: true });
  if (existsSync(SAMPLES) && readdirSync(SAMPLES).length > 0) {
    cpSync(SAMPLES, join(ws, 'samples'), { recursive: true, filter: (p) => !p.includes('node_modules') });
    spawnSync('chmod', ['-R', 'u+w', join(ws, 'samples')]);
  }
  copy(join(REF, 'cnn_same', 'model.h5'), 'cnn/model.h5');
  copy(join(REF, 'cnn_same', 'tfjs', 'model.json'), 'cnn/tfjs/model.json');
  copy(join(REF, 'cnn_same', 'tfjs', 'group1-shard1of1.bin'), 'cnn/tfjs/group1-shard1of1.bin');
  copy(join(REF, 'cnn_same', 'x_nhwc.npy'), 'cnn/x_nhwc.npy');
  copy(join(REAL, 'ninolearn-broken', 'member0.h5'), 'broken/member0.h5');
}

async function waitHttp(url: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.status < 500) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > end) throw new Error(`code-server did not answer at ${url}\n${serverLog.join('').slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function shot(name: string): Promise<string> {
  mkdirSync(SHOTS, { recursive: true });
  const file = join(SHOTS, `vscode-${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

async function runCommand(title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 15_000 });
  await input.fill(`>${title}`);
  // The row whose label is the title (a fuzzy match may rank another command first).
  const exact = new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\.\\.\\.|…)?$`);
  const rows = page.locator('.quick-input-list .monaco-list-row');
  await rows.filter({ hasText: title }).first().waitFor({ timeout: 15_000 });
  const first = (await rows.first().locator('.label-name').innerText().catch(() => '')).trim();
  if (exact.test(first)) await page.keyboard.press('Enter');
  else await rows.filter({ has: page.locator('.label-name', { hasText: exact }) }).first().click();
}

/** Type `text` into the open quick pick and take the first row that shows `row` (default: the text). */
async function pick(text: string, row = text): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 30_000 });
  await input.fill(text);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: row }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
}

/** Until the open quick pick is the one titled `title` (the command palette may still be closing); its title. */
async function quickPickTitled(title: RegExp, ms = 60_000): Promise<string> {
  const t = page.locator('.quick-input-widget .quick-input-title', { hasText: title });
  await t.first().waitFor({ state: 'visible', timeout: ms });
  return t.first().innerText();
}

async function frameWithText(text: string, ms: number): Promise<Frame> {
  const end = Date.now() + ms;
  for (;;) {
    for (const f of page.frames()) {
      try {
        const body = await f.evaluate(() => document.body?.innerText ?? '');
        if (body.includes(text)) return f;
      } catch {
        /* detached or cross-origin while loading */
      }
    }
    if (Date.now() > end) throw new Error(`no webview frame shows '${text}'`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Until the panel in `frame` has drawn a result (it marks the frame when the drawing's frame is shown)
 * and its relevance map has coloured pixels: a screenshot then shows the maps, not a blank webview.
 */
async function waitDrawn(frame: Frame, ms = 90_000): Promise<void> {
  await frame.waitForFunction(() => document.body.dataset.renderMs !== undefined, undefined, { timeout: ms });
  await frame.waitForFunction(() => {
    const c = document.querySelector<HTMLCanvasElement>('#boxRel canvas');
    if (!c || c.width === 0 || c.height === 0) return false;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let coloured = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 40) coloured++;
    return coloured > 20;
  }, undefined, { timeout: ms });
  // Two animation frames: the canvas is on screen, not only drawn.
  await frame.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(null)))));
}

before(async () => {
  assert.ok(existsSync(ENTRY), `code-server is not installed in ${CS_DIR}: run scripts/setup-code-server.sh`);
  assert.ok(existsSync(VSIX), `no ${VSIX}: run npm run package`);
  makeWorkspace();
  rmSync(userData, { recursive: true, force: true });
  rmSync(extDir, { recursive: true, force: true });
  mkdirSync(join(userData, 'User'), { recursive: true });
  writeFileSync(
    join(userData, 'User', 'settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'security.workspace.trust.enabled': false,
      'telemetry.telemetryLevel': 'off',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'update.mode': 'none',
      'workbench.colorTheme': 'Default Light Modern',
      'window.zoomLevel': 0,
      'git.enabled': false,
      'git.openRepositoryInParentFolders': 'never',
    }),
  );
  // Its own HOME: code-server writes ~/.config/code-server/config.yaml on first start.
  const env = { ...process.env, HOME: join(base, 'home'), XDG_CONFIG_HOME: join(base, 'home', '.config'), XDG_DATA_HOME: join(base, 'home', '.local', 'share') };
  const install = spawnSync(process.execPath, [ENTRY, '--user-data-dir', userData, '--extensions-dir', extDir, '--install-extension', VSIX], { encoding: 'utf8', timeout: 120_000, env });
  assert.equal(install.status, 0, `install failed:\n${install.stdout}\n${install.stderr}`);

  const port = await freePort();
  server = spawn(
    process.execPath,
    [ENTRY, '--auth', 'none', '--disable-workspace-trust', '--disable-telemetry', '--disable-update-check', '--bind-addr', `127.0.0.1:${port}`, '--user-data-dir', userData, '--extensions-dir', extDir, ws],
    { stdio: ['ignore', 'pipe', 'pipe'], env },
  );
  server.stdout!.on('data', (d: Buffer) => serverLog.push(d.toString()));
  server.stderr!.on('data', (d: Buffer) => serverLog.push(d.toString()));
  await waitHttp(`http://127.0.0.1:${port}/healthz`, 60_000);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  rmSync(extDir, { recursive: true, force: true });
});

test('the Problems panel shows the findings of the models in the folder', async () => {
  await page.keyboard.press('Control+Shift+M');
  const problems = page.locator('.markers-panel');
  await problems.waitFor({ timeout: 30_000 });
  // LRP100: the broken real model; LRP101: 'same' padding in the reference CNN.
  await page.locator('.markers-panel .monaco-list-row', { hasText: 'LRP100' }).first().waitFor({ timeout: 120_000 });
  await page.locator('.markers-panel .monaco-list-row', { hasText: 'LRP101' }).first().waitFor({ timeout: 60_000 });
  await shot('problems');
  const text = await problems.innerText();
  assert.match(text, /member0\.h5/);
  assert.match(text, /MISSING_WEIGHTS/);
  assert.match(text, /model\.h5|model\.json/);
  const status = await page.locator('.statusbar-item', { hasText: 'LRP' }).first().innerText();
  assert.match(status, /LRP/);
  await shot('problems');
});

test('a .h5 file opens in the read-only model viewer with its architecture and findings', async () => {
  await runCommand('Go to File');
  await pick('cnn/model.h5', 'model.h5');
  const frame = await frameWithText('Explain this model', 60_000);
  const body = await frame.evaluate(() => document.body.innerText);
  assert.match(body, /Conv2D/);
  assert.match(body, /LRP101/);
  await shot('model-viewer');
});

test('"LRP Lens: Explain model" runs and opens the heat-map panel', async () => {
  await runCommand('LRP Lens: Explain model');
  // The model viewer of cnn/model.h5 is the active editor, so the command asks only for the samples;
  // from elsewhere it asks for the model first.
  const title = await quickPickTitled(/LRP Lens: (which model|data to explain)/);
  if (/which model/.test(title)) await pick('cnn/model.h5');
  await quickPickTitled(/LRP Lens: data to explain/);
  await pick('x_nhwc.npy');
  // The panel is a webview tab; wait for its editor tab and its content frame.
  // The server explained it: the status bar names the engine that ran ('auto' ran the LRP graph on the
  // ONNX Runtime binary the platform-specific .vsix carries).
  await page.locator('.statusbar-item', { hasText: 'auto (onnxruntime)' }).first().waitFor({ timeout: 120_000 });
  const tab = page.locator('.tabs-container .tab', { hasText: /heat map/i }).last();
  await tab.waitFor({ timeout: 60_000 });
  // The screenshot shows the drawn maps, not the webview while it loads.
  await waitDrawn(await frameWithText('Relevance', 60_000));
  await shot('explain-panel');
});

test('the heat-map panel shows the explanation the command computed', async () => {
  const panel = await frameWithText('Relevance', 60_000);
  // The panel drew the explanation it was given (it marks the frame that shows a result).
  const drawn = await waitDrawn(panel).then(() => true, () => false);
  await shot('heatmap-panel');
  const text = await panel.evaluate(() => document.body.innerText);
  assert.doesNotMatch(text, /BAD_INPUT|INTERNAL|USAGE:/, 'the panel shows an error instead of the result');
  assert.ok(drawn, 'the panel did not render the explanation');
  // The controls describe what is shown: the command's model and samples (a recompute explains the same).
  const value = (id: string) => panel.evaluate((i) => (document.getElementById(i) as HTMLElement & { value?: string } | null)?.value ?? '', id);
  assert.match(await value('model'), /cnn\/model\.h5$/, 'the model of the result is selected');
  assert.match(await value('data'), /cnn\/x_nhwc\.npy$/, 'the samples of the result are shown');
});

test('PNG export works in the installed extension (no sharp in the .vsix: the panel draws it)', async () => {
  const panel = await frameWithText('Relevance', 30_000);
  await panel.evaluate(() => (document.getElementById('exportPng') as HTMLElement).click());
  // VS Code's save dialog (code-server: the simple file dialog, a quick input) proposes
  // <workspace>/<view>.png: accept it.
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 30_000 });
  await new Promise((r) => setTimeout(r, 500));
  await page.keyboard.press('Enter');
  const saved = await panel
    .waitForFunction(() => /^Saved PNG to (.+)\.$/.exec(document.getElementById('status')?.textContent ?? '')?.[1], undefined, { timeout: 30_000 })
    .then((h) => h.jsonValue() as Promise<string>, async () => {
      throw new Error(`no PNG was saved (panel status: ${await panel.evaluate(() => document.getElementById('status')?.textContent ?? '')})`);
    });
  await shot('png-export');
  assert.ok(saved.startsWith(ws), `saved in the workspace: ${saved}`);
  const png = readFileSync(saved);
  assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'the saved file is a PNG');
  copyFileSync(saved, join(SHOTS, 'vscode-exported.png'));
  // Without sharp the page composed it from its canvases: the input map and the relevance map side by
  // side (the server's rendering has the relevance map only, 720 pixels wide and more).
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  assert.ok(width > 0 && height > 0 && width < 720, `a PNG of ${width}x${height} from the panel's canvases`);
});

// ------------------------------------------------------------------ issue 19: from one's own data file to a heat map

const FLOW_MODEL = join(SAMPLES, 'models', 'mlp_relu', 'model.h5');
const FLOW_NC = join(SAMPLES, 'data', 'ersstv5_sst_2deg_2010-2020.nc');
const SCHEMA = join(REPO, 'schemas', 'lrp-lens.schema.json');
/** What each flow measured, printed at the end (the closing note quotes it). */
const flowReport: Record<string, unknown> = {};

/** A folder with one model (mlp_relu: trained on monthly SST anomalies of the 2-degree grid) and no lrp-lens.json. */
function flowWorkspace(name: string): string {
  const dir = join(base, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'models', 'mlp_relu'), { recursive: true });
  mkdirSync(join(dir, 'data'), { recursive: true });
  copyFileSync(FLOW_MODEL, join(dir, 'models', 'mlp_relu', 'model.h5'));
  return dir;
}

/**
 * A Zarr v2 directory store written here from the NetCDF file's variables (raw values and attributes,
 * xarray's _ARRAY_DIMENSIONS, zlib-compressed chunks of 32 time steps): the same field as a store.
 */
async function writeZarrV2(src: string, dst: string): Promise<void> {
  const { openSource } = await import('../server/src/core/data/load.js');
  const { fullSlab } = await import('../server/src/core/data/source.js');
  const { deflateSync } = await import('node:zlib');
  const s = await openSource(src);
  try {
    mkdirSync(dst, { recursive: true });
    writeFileSync(join(dst, '.zgroup'), JSON.stringify({ zarr_format: 2 }));
    writeFileSync(join(dst, '.zattrs'), JSON.stringify({ title: 'ERSSTv5 (Zarr copy of the NetCDF file)' }));
    for (const v of s.variables) {
      const a = await s.read(v.name, fullSlab(v.shape));
      const data = a.data as Float32Array | Float64Array;
      const chunks = v.shape.map((n, i) => (i === 0 && v.dims[0] === 'time' && v.shape.length > 1 ? Math.min(32, n) : n));
      const dir = join(dst, v.name);
      mkdirSync(dir, { recursive: true });
      const attrs: Record<string, unknown> = { _ARRAY_DIMENSIONS: v.dims };
      for (const [k, val] of Object.entries(v.attrs)) if (k !== '_FillValue' && val !== null) attrs[k] = val;
      writeFileSync(join(dir, '.zattrs'), JSON.stringify(attrs));
      writeFileSync(join(dir, '.zarray'), JSON.stringify({
        zarr_format: 2, shape: v.shape, chunks, dtype: data instanceof Float64Array ? '<f8' : '<f4',
        compressor: { id: 'zlib', level: 5 }, fill_value: null, order: 'C', filters: null,
      }));
      // Chunks along the first dim only (the others are whole): chunk k holds rows [k*c0, (k+1)*c0).
      const rowLen = v.shape.slice(1).reduce((x, y) => x * y, 1);
      for (let k = 0; k * chunks[0] < v.shape[0]; k++) {
        // A last partial chunk is stored full size (the spec's edge chunks), padded with NaN.
        const chunk = new (data.constructor as Float32ArrayConstructor)(chunks[0] * rowLen).fill(NaN);
        chunk.set(data.subarray(k * chunks[0] * rowLen, Math.min(v.shape[0], (k + 1) * chunks[0]) * rowLen));
        const key = [k, ...v.shape.slice(1).map(() => 0)].join('.');
        writeFileSync(join(dir, key), deflateSync(new Uint8Array(chunk.buffer)));
      }
    }
  } finally {
    await s.close();
  }
}

/** One user action (a key, a typed string, a click), counted for the report. */
class Tally {
  actions = 0;
  readonly t0 = Date.now();
  async do<T>(n: number, fn: () => Promise<T>): Promise<T> {
    this.actions += n;
    return fn();
  }
  seconds(): number {
    return (Date.now() - this.t0) / 1000;
  }
}

async function flowShot(name: string): Promise<string> {
  mkdirSync(SHOTS, { recursive: true });
  const file = join(SHOTS, `vscode-dataflow-${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/**
 * The flow a climate scientist takes: open the folder, open the model, "Explain model", choose the data
 * (`choose`: the NetCDF file through the open dialog, or the Zarr store from the workspace's data),
 * accept the detected defaults, Explain, see the heat map, Save; lrp-lens.json is then valid.
 */
async function dataFlow(kind: 'netcdf' | 'zarr', dir: string, choose: (t: Tally) => Promise<void>): Promise<void> {
  try {
    await dataFlowSteps(kind, dir, choose);
  } catch (e) {
    // What the window showed when a step failed, next to the steps' screenshots.
    await flowShot(`${kind}-failed`).catch(() => undefined);
    throw e;
  }
}

async function dataFlowSteps(kind: 'netcdf' | 'zarr', dir: string, choose: (t: Tally) => Promise<void>): Promise<void> {
  const shots: string[] = [];
  const t = new Tally();
  await page.goto(`${page.url().split('?')[0]}?folder=${encodeURIComponent(dir)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
  // The server is up and has analyzed the folder's model.
  await page.locator('.statusbar-item', { hasText: 'LRP' }).first().waitFor({ timeout: 120_000 });
  await t.do(5, async () => { await runCommand('Go to File'); await pick('model.h5'); });
  await frameWithText('Explain this model', 90_000);
  shots.push(await flowShot(`${kind}-1-model`));
  await t.do(3, () => runCommand('LRP Lens: Explain model'));
  await quickPickTitled(/LRP Lens: data to explain/);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Choose a data file' }).first().waitFor({ timeout: 30_000 });
  shots.push(await flowShot(`${kind}-2-choose-data`));
  await choose(t);
  // The panel's data form, with the defaults detected from the file and the model.
  const form = await frameWithText('Feeds the model as', 120_000);
  await form.waitForFunction(() => Number(document.body.dataset.previewDrawn ?? 0) > 0, undefined, { timeout: 120_000 });
  const value = (id: string) => form.evaluate((i) => (document.getElementById(i) as HTMLElement & { value?: string } | null)?.value ?? '', id);
  const fit = await form.evaluate(() => document.getElementById('dfFit')?.textContent ?? '');
  shots.push(await flowShot(`${kind}-3-form`));
  // The model was trained on monthly anomalies: the defaults say so, or the user sets them.
  if ((await value('dfStandardize')) !== 'monthly') {
    await t.do(2, async () => {
      await form.evaluate(() => { const s = document.getElementById('dfStandardize') as HTMLElement & { value: string }; s.value = 'monthly'; s.dispatchEvent(new Event('change')); });
    });
    await form.waitForFunction(() => /^fits/.test(document.getElementById('dfFit')?.textContent ?? ''), undefined, { timeout: 60_000 });
  }
  assert.match(await form.evaluate(() => document.getElementById('dfFit')?.textContent ?? ''), /^fits: /, `the choices fit the model (form said: ${fit})`);
  assert.equal(await form.evaluate(() => document.body.dataset.previewKind), 'diverging', 'the anomaly preview is drawn centred on 0');
  await t.do(1, () => form.locator('#dfExplain').click());
  await waitDrawn(form, 180_000);
  const firstHeatmap = t.seconds();
  const actions = t.actions;
  shots.push(await flowShot(`${kind}-4-heatmap`));
  const text = await form.evaluate(() => document.body.innerText);
  assert.doesNotMatch(text, /BAD_INPUT|INTERNAL|USAGE:/, 'the panel shows an error instead of the result');
  // Save: the entry goes into a new lrp-lens.json in the folder.
  await t.do(1, () => form.locator('#dfSave').click());
  const status = await form
    .waitForFunction(() => /lrp-lens\.json/.exec(document.getElementById('status')?.textContent ?? '')?.input, undefined, { timeout: 60_000 })
    .then((h) => h.jsonValue() as Promise<string>);
  shots.push(await flowShot(`${kind}-5-saved`));
  const written = join(dir, 'lrp-lens.json');
  assert.ok(existsSync(written), `lrp-lens.json written in the folder (panel: ${status})`);
  const project = JSON.parse(readFileSync(written, 'utf8')) as { models: { model: string; data: { file: string }; input?: { standardize?: { anomaly?: string } } }[] };
  // ajv is CommonJS: under NodeNext its class is the module's default or the default's default.
  type AjvCtor = new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown }; errorsText(e: unknown): string };
  const ajv = new ((AjvModule as unknown as { default?: AjvCtor }).default ?? (AjvModule as unknown as AjvCtor))({ allErrors: true, strict: false });
  const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA, 'utf8')));
  assert.ok(validate(project), `lrp-lens.json is valid against the schema: ${ajv.errorsText(validate.errors)}`);
  assert.equal(project.models.length, 1);
  assert.match(project.models[0].model, /mlp_relu/);
  assert.match(project.models[0].data.file, kind === 'zarr' ? /\.zarr$/ : /ersstv5_sst_2deg_2010-2020\.nc$/);
  assert.equal(project.models[0].input?.standardize?.anomaly, 'monthly');
  flowReport[kind] = { actionsToFirstHeatmap: actions, secondsFromOpeningTheFolderToFirstHeatmap: Number(firstHeatmap.toFixed(1)), fitLine: fit, saved: written, screenshots: shots };
  console.log(`data flow (${kind}): ${actions} clicks/keystroke commands and ${firstHeatmap.toFixed(1)} s from opening the folder to the first heat map; ${fit}; screenshots ${shots.join(', ')}`);
}

test('issue 19: from a folder with no lrp-lens.json, a NetCDF file to a heat map and a saved entry', async () => {
  const dir = flowWorkspace('dataflow-netcdf');
  const nc = join(dir, 'data', 'ersstv5_sst_2deg_2010-2020.nc');
  copyFileSync(FLOW_NC, nc);
  await dataFlow('netcdf', dir, async (t) => {
    await t.do(1, () => page.locator('.quick-input-list .monaco-list-row', { hasText: 'Choose a data file' }).first().click());
    // code-server's simple file dialog: a quick input holding a path; type the file's and accept.
    const input = page.locator('.quick-input-widget input');
    await page.waitForFunction(() => (document.querySelector('.quick-input-widget input') as HTMLInputElement | null)?.value.startsWith('/'), undefined, { timeout: 30_000 });
    // Typed (not pasted): the dialog follows the path as it is typed, and knows the file exists at the end.
    await t.do(1, async () => { await input.fill(''); await page.keyboard.type(nc, { delay: 30 }); });
    // Under load the dialog's completion of folder names can land between typed keys and garble the
    // path ("The path does not exist"). Retry as a user would (not counted as actions): put the folder's
    // path in one go, wait for the dialog to list that folder, then type the file name.
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'ersstv5_sst_2deg_2010-2020.nc' }).first();
    for (let attempt = 0; ; attempt++) {
      try {
        await row.waitFor({ timeout: 10_000 });
        break;
      } catch (e) {
        if (attempt >= 3) throw e;
        await input.fill(dirname(nc) + '/');
        await row.waitFor({ timeout: 15_000 }).catch(() => undefined);
        await page.keyboard.type(basename(nc), { delay: 50 });
      }
    }
    await flowShot('netcdf-2b-dialog');
    await t.do(1, () => page.keyboard.press('Enter'));
  });
});

test('issue 19: the same flow on a Zarr store', async () => {
  const dir = flowWorkspace('dataflow-zarr');
  await writeZarrV2(FLOW_NC, join(dir, 'data', 'ersstv5_sst_2deg.zarr'));
  await dataFlow('zarr', dir, async (t) => {
    // The workspace's Zarr stores are offered in the quick pick.
    await t.do(2, () => pick('ersstv5_sst_2deg.zarr'));
  });
  mkdirSync(SHOTS, { recursive: true });
  writeFileSync(join(SHOTS, 'vscode-dataflow.json'), JSON.stringify(flowReport, null, 2) + '\n');
});
