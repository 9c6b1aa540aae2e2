// Bundles the heat-map panel (webview/src/main.ts) into dist/webview/ with esbuild, and copies its
// HTML template and CSS next to it. Usage: node scripts/bundle-webview.js [--dev]; also importable.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const WEBVIEW_OUT = join(ROOT, 'dist', 'webview');

/** outDir: where to write (default dist/webview; the browser test uses its own folder under out/). */
export async function bundleWebview({ dev = false, outDir = WEBVIEW_OUT } = {}) {
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ['webview/src/main.ts'],
    outfile: join(outDir, 'panel.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome114'],
    minify: !dev,
    sourcemap: dev ? 'inline' : false,
    legalComments: 'linked',
    logLevel: 'warning',
    metafile: true,
  });
  copyFileSync(join(ROOT, 'webview', 'panel.html'), join(outDir, 'panel.html'));
  copyFileSync(join(ROOT, 'webview', 'panel.css'), join(outDir, 'panel.css'));
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await bundleWebview({ dev: process.argv.includes('--dev') });
  const bytes = Object.values(r.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  console.log(`dist/webview/panel.js: ${(bytes / 1024).toFixed(0)} KiB`);
}
