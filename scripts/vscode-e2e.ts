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
import { join } from 'node:path';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
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
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
}

/** Type `text` into the open quick pick and take the first row that shows `row` (default: the text). */
async function pick(text: string, row = text): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 30_000 });
  await input.fill(text);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: row }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
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
  await page.locator('.quick-input-widget input').waitFor({ state: 'visible', timeout: 30_000 });
  await new Promise((r) => setTimeout(r, 500));
  const title = await page.locator('.quick-input-widget .quick-input-title').innerText().catch(() => '');
  if (/which model/.test(title)) await pick('cnn/model.h5');
  await pick('x_nhwc.npy');
  // The panel is a webview tab; wait for its editor tab and its content frame.
  // The server explained it: the status bar names the engine that ran ('auto' ran the LRP graph on the
  // ONNX Runtime binary the platform-specific .vsix carries).
  await page.locator('.statusbar-item', { hasText: 'auto (onnxruntime)' }).first().waitFor({ timeout: 120_000 });
  const tab = page.locator('.tabs-container .tab', { hasText: /heat map/i }).last();
  await tab.waitFor({ timeout: 60_000 });
  await shot('explain-panel');
});

test('the heat-map panel shows the explanation the command computed', async () => {
  const panel = await frameWithText('Relevance', 60_000);
  // The panel drew the explanation it was given (it marks the frame that shows a result).
  const drawn = await panel
    .waitForFunction(() => document.body.dataset.renderMs !== undefined, undefined, { timeout: 60_000 })
    .then(() => true, () => false);
  await new Promise((r) => setTimeout(r, 1000));
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
