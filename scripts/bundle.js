// Bundles every entry point with esbuild so the .vsix carries no node_modules:
//   client  client/src/extension.ts -> dist/extension.cjs (CommonJS: the extension host requires it)
//   server  server/src/lsp/main.ts  -> dist/server.js, its worker -> dist/worker.js,
//   CLI     server/src/cli.ts       -> dist/cli.js and each command -> dist/cli/<name>.js
//           (ESM with shared chunks: cli.ts imports its commands by computed path, so they stay files)
//   webview via scripts/bundle-webview.js (the panel's own script) -> dist/webview/
// and copies the tfjs-backend-wasm .wasm files next to the worker (tfjs loads them from there).
// Usage: node scripts/bundle.js [--dev]
import { build } from 'esbuild';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const dev = process.argv.includes('--dev');

// Packages that cannot be bundled: native (sharp) or optional backends whose absence is reported at run time.
const EXTERNAL = ['vscode', 'sharp', 'onnxruntime-node', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-backend-webgpu'];

// ESM output still meets require() of Node built-ins inside CommonJS dependencies (emscripten glue):
// give those modules a real require, and __dirname/__filename.
const ESM_BANNER = [
  "import { createRequire as __lensCreateRequire } from 'node:module';",
  "import { fileURLToPath as __lensFileURLToPath } from 'node:url';",
  "import { dirname as __lensDirname } from 'node:path';",
  'const require = __lensCreateRequire(import.meta.url);',
  'const __filename = __lensFileURLToPath(import.meta.url);',
  'const __dirname = __lensDirname(__filename);',
].join('\n');

// The heat-map panel (client/src/panel.ts) is its own module; a checkout without it still bundles,
// and the panel command then says that the panel is not part of this build.
const panelFallback = {
  name: 'panel-fallback',
  setup(b) {
    b.onResolve({ filter: /^\.\/panel\.js$/ }, (args) => {
      if (existsSync(join(args.resolveDir, 'panel.ts'))) return undefined;
      return { path: 'panel-fallback', namespace: 'lrp-lens' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lrp-lens' }, () => ({
      contents: "import * as vscode from 'vscode'; export async function showPanel() { void vscode.window.showWarningMessage('LRP Lens: the heat-map panel is not part of this build.'); }",
      resolveDir: ROOT,
      loader: 'js',
    }));
  },
};

// format-registry.ts imports its format modules by computed name (`./formats/${f}.js`); esbuild can
// only glob that against .js files, and the sources are .ts. Rewrite it into one static import per
// listed module (a no-op once the registry imports them statically).
const staticFormatImports = {
  name: 'static-format-imports',
  setup(b) {
    b.onLoad({ filter: /format-registry\.ts$/ }, async (args) => {
      const { readFile } = await import('node:fs/promises');
      let text = await readFile(args.path, 'utf8');
      const list = /FORMAT_FILES\s*=\s*\[([^\]]*)\]/.exec(text);
      if (list && text.includes('import(`./formats/${f}.js`)')) {
        const names = [...list[1].matchAll(/'([\w-]+)'/g)].map((m) => m[1]).filter((n) => existsSync(join(dirname(args.path), 'formats', `${n}.ts`)));
        const table = `({${names.map((n) => `${JSON.stringify(n)}: () => import('./formats/${n}.js')`).join(', ')}} as Record<string, () => Promise<unknown>>)`;
        text = text.replace('import(`./formats/${f}.js`)', `(${table}[f] ?? (() => Promise.reject(Object.assign(new Error('not bundled: formats/' + f + '.js'), { code: 'ERR_MODULE_NOT_FOUND' }))))()`);
      }
      return { contents: text, loader: 'ts' };
    });
  },
};

export async function bundle() {
  rmSync(DIST, { recursive: true, force: true });
  mkdirSync(DIST, { recursive: true });
  const common = {
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    target: 'node20',
    minify: !dev,
    sourcemap: dev ? 'linked' : false,
    legalComments: 'none',
    logLevel: 'warning',
    external: EXTERNAL,
    metafile: true,
  };

  const client = await build({
    ...common,
    plugins: [panelFallback],
    entryPoints: { extension: 'client/src/extension.ts' },
    outfile: join(DIST, 'extension.cjs'),
    format: 'cjs',
  });

  const cliCommands = readdirSync(join(ROOT, 'server', 'src', 'cli'))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'args.ts')
    .map((f) => f.replace(/\.ts$/, ''));
  const entryPoints = {
    server: 'server/src/lsp/main.ts',
    worker: 'server/src/lsp/worker.ts',
    cli: 'server/src/cli.ts',
    // ONNX Runtime's worker threads (OrtExplainer with workers > 1) load this file next to the chunks.
    'ort-worker': 'server/src/core/lrp-onnx/ort-worker.ts',
  };
  for (const c of cliCommands) entryPoints[`cli/${c}`] = `server/src/cli/${c}.ts`;
  const server = await build({
    ...common,
    entryPoints,
    outdir: DIST,
    format: 'esm',
    splitting: true,
    // Chunks next to server.js and worker.js, so relative URLs (the worker script, .wasm files) resolve in dist/.
    chunkNames: 'chunk-[hash]',
    plugins: [staticFormatImports],
    banner: { js: ESM_BANNER },
  });

  const wasmDir = join(ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  for (const f of readdirSync(wasmDir)) if (f.endsWith('.wasm')) copyFileSync(join(wasmDir, f), join(DIST, f));
  copyOnnxRuntime();

  let webview;
  const webviewScript = join(ROOT, 'scripts', 'bundle-webview.js');
  if (existsSync(webviewScript)) {
    const { bundleWebview } = await import(pathToFileURL(webviewScript).href);
    webview = await bundleWebview({ dev });
  }
  return { client, server, webview };
}

/**
 * onnxruntime-node cannot be bundled (a native addon): its JavaScript, onnxruntime-common and the binary
 * for this platform only go to dist/node_modules, where the bundle's import finds them. The .vsix is
 * then platform-specific (npm run package passes --target); without the binary the engine falls back to
 * tfjs-wasm and says so.
 */
function copyOnnxRuntime() {
  const src = join(ROOT, 'node_modules');
  const out = join(DIST, 'node_modules');
  const bin = join('bin', 'napi-v6', process.platform, process.arch);
  if (!existsSync(join(src, 'onnxruntime-node', bin))) return;
  for (const [pkg, parts] of [['onnxruntime-node', ['package.json', 'dist', bin]], ['onnxruntime-common', ['package.json', 'dist']]]) {
    for (const part of parts) cpSync(join(src, pkg, part), join(out, pkg, part), { recursive: true });
  }
}

function sizeOf(dir) {
  let n = 0;
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    const st = statSync(p);
    n += st.isDirectory() ? sizeOf(p) : st.size;
  }
  return n;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = Date.now();
  await bundle();
  console.log(`dist/: ${(sizeOf(DIST) / 1048576).toFixed(1)} MiB in ${Date.now() - t0} ms`);
}
