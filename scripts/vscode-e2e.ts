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
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
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
const extDir = join(base, 'extensions');
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
  const install = spawnSync(process.execPath, [ENTRY, '--user-data-dir', userData, '--extensions-dir', extDir, '--install-extension', VSIX], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(install.status, 0, `install failed:\n${install.stdout}\n${install.stderr}`);

  const port = await freePort();
  server = spawn(
    process.execPath,
    [ENTRY, '--auth', 'none', '--disable-workspace-trust', '--disable-telemetry', '--disable-update-check', '--bind-addr', `127.0.0.1:${port}`, '--user-data-dir', userData, '--extensions-dir', extDir, ws],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: join(base, 'home') } },
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
  const tab = page.locator('.tabs-container .tab', { hasText: /LRP|Heat/ }).last();
  await tab.waitFor({ timeout: 120_000 });
  await new Promise((r) => setTimeout(r, 3000)); // let the panel draw
  await shot('explain-panel');
  const label = (await tab.getAttribute('aria-label')) ?? (await tab.innerText());
  assert.match(label, /LRP|Heat/);
});
