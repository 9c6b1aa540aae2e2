/**
 * Time to first diagnostics and memory of the language server on a folder of models: the samples
 * folder, and 20 real model files (19 distinct from ../shared plus one copy). Uses the bundle when
 * LRP_LENS_TEST_BUNDLE=1 (what the .vsix runs), else the sources. Writes out/measure-lsp.json.
 * Usage: npx tsx scripts/measure-lsp.ts [folder ...]
 *
 * With --explain: the time from "Explain model" to the first map for each sample model (samples/models,
 * the 89x180 field's models): the server started on samples/ and idle (its first diagnostics done), then
 * per model the request the "Explain model" command sends (client/src/commands.ts: the composite setting,
 * target argmax, the project's data) timed to its result ("first" - a model the server has not explained:
 * model load, data pipeline, lowering and ONNX Runtime session included), then the same model for class 0
 * ("again": what a changed target or sample costs once the session is built). Prints a table; writes
 * out/measure-lsp-explain.json. Usage: npx tsx scripts/measure-lsp.ts --explain
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REAL, REF, REPO, SAMPLES, scratchDir } from '../server/src/testing/paths.js';
import { startClient } from '../server/src/testing/lsp-client.js';
import { discoverModels } from '../server/src/lsp/discovery.js';
import { DEFAULT_SETTINGS } from '../server/src/protocol.js';

function twentyModels(): string {
  const dir = scratchDir('measure-20');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files: [string, string][] = [];
  for (const f of readdirSync(join(REAL, 'sevir'))) files.push([join(REAL, 'sevir', f), `sevir/${f}`]);
  files.push([join(REAL, 'mlcommons-tiny', 'pretrainedResnet.h5'), 'resnet/pretrainedResnet.h5']);
  files.push([join(REAL, 'space-weather-cnn', 'model_t_0.h5'), 'space/model_t_0.h5']);
  files.push([join(REAL, 'hail-3dunet', 'model.h5'), 'hail/model.h5']);
  files.push([join(REAL, 'ninolearn-broken', 'member0.h5'), 'nino/member0.h5']);
  files.push([join(REAL, 'deepeverest-mnist', 'mnist.onnx'), 'mnist/mnist.onnx']);
  files.push([join(REAL, 'tfjs-abalone', 'model.json'), 'abalone/model.json'], [join(REAL, 'tfjs-abalone', 'weights.bin'), 'abalone/weights.bin']);
  files.push([join(REAL, 'tfjs-graphmodel', 'model.json'), 'graph/model.json'], [join(REAL, 'tfjs-graphmodel', 'group1-shard1of1.bin'), 'graph/group1-shard1of1.bin']);
  for (const m of ['cnn_same', 'mlp']) {
    files.push([join(REF, m, 'model.h5'), `${m}/model.h5`], [join(REF, m, 'model.onnx'), `${m}/model.onnx`]);
    files.push([join(REF, m, 'tfjs', 'model.json'), `${m}/tfjs/model.json`], [join(REF, m, 'tfjs', 'group1-shard1of1.bin'), `${m}/tfjs/group1-shard1of1.bin`]);
  }
  files.push([join(REAL, 'sevir', 'MyFirstCNN.h5'), 'copy/MyFirstCNN.h5']);
  for (const [src, rel] of files) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    copyFileSync(src, join(dir, rel));
    chmodSync(join(dir, rel), 0o644);
  }
  return dir;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function measure(folder: string) {
  const found = await discoverModels([folder], { include: DEFAULT_SETTINGS.modelGlobs, exclude: DEFAULT_SETTINGS.exclude, maxFileBytes: 512 * 1048576 });
  const uris = new Set(found.files.map((f) => 'file://' + f));
  const client = await startClient(folder);
  try {
    await client.waitFor('all diagnostics', () => [...uris].every((u) => client.diagnostics.has(u)), 120_000);
    const models = client.publishes.filter((p) => uris.has(p.uri));
    const first = Math.min(...models.map((p) => p.ms));
    const all = Math.max(...[...uris].map((u) => models.find((p) => p.uri === u)!.ms));
    const idle = rssMiB(client.proc.pid!);
    const codes: Record<string, number> = {};
    for (const u of uris) for (const d of client.diagnostics.get(u)!) codes[String(d.code)] = (codes[String(d.code)] ?? 0) + 1;
    return { folder, files: uris.size, firstDiagnosticsMs: first, allDiagnosticsMs: all, serverRssMiB: Math.round(idle), codes };
  } finally {
    await client.close();
  }
}

interface ExplainTiming {
  model: string;
  firstMs: number;
  againMs: number;
  backend: string;
  engineFallback?: string;
  samples: number;
  shape: number[];
}

/** Every sample model explained through the server as the "Explain model" command asks. */
async function measureExplain(): Promise<ExplainTiming[]> {
  const models = readdirSync(join(SAMPLES, 'models'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => ['model.json', 'model.onnx'].map((f) => join(SAMPLES, 'models', d.name, f)).find((f) => existsSync(f)))
    .filter((f): f is string => !!f);
  const found = await discoverModels([SAMPLES], { include: DEFAULT_SETTINGS.modelGlobs, exclude: DEFAULT_SETTINGS.exclude, maxFileBytes: 512 * 1048576 });
  const uris = new Set(found.files.map((f) => 'file://' + f));
  const client = await startClient(SAMPLES);
  const out: ExplainTiming[] = [];
  try {
    await client.waitFor('all diagnostics', () => [...uris].every((u) => client.diagnostics.has(u)), 300_000);
    for (const file of models) {
      const params = { model: 'file://' + file, composite: { name: DEFAULT_SETTINGS.composite, params: DEFAULT_SETTINGS.compositeParams }, target: 'argmax' };
      const timed = async (p: Record<string, unknown>) => {
        const t0 = performance.now();
        const r = await client.conn.sendRequest<{ backend: string; engineFallback?: string; relevance: { shape: number[] } }>('lrpLens/explain', p);
        return { ms: performance.now() - t0, r };
      };
      const first = await timed(params);
      const again = await timed({ ...params, target: 0 });
      const t: ExplainTiming = { model: file.slice(SAMPLES.length + 1), firstMs: Math.round(first.ms), againMs: Math.round(again.ms), backend: first.r.backend, samples: first.r.relevance.shape[0], shape: first.r.relevance.shape.slice(1) };
      if (first.r.engineFallback) t.engineFallback = first.r.engineFallback;
      out.push(t);
    }
  } finally {
    await client.close();
  }
  return out;
}

if (process.argv.includes('--explain')) {
  const rows = await measureExplain();
  console.log(`${'model'.padEnd(36)} ${'first ms'.padStart(9)} ${'again ms'.padStart(9)}  samples  engine`);
  for (const r of rows) console.log(`${r.model.padEnd(36)} ${String(r.firstMs).padStart(9)} ${String(r.againMs).padStart(9)}  ${String(r.samples).padStart(7)}  ${r.backend}${r.engineFallback ? ` (${r.engineFallback.slice(0, 60)})` : ''}`);
  console.log(`load average ${(await import('node:os')).loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  mkdirSync(join(REPO, 'out'), { recursive: true });
  writeFileSync(join(REPO, 'out', 'measure-lsp-explain.json'), JSON.stringify({ bundle: process.env.LRP_LENS_TEST_BUNDLE === '1', rows }, null, 2));
  process.exit(0);
}

const folders = process.argv.slice(2);
if (folders.length === 0) {
  if (existsSync(SAMPLES)) folders.push(SAMPLES);
  folders.push(twentyModels());
}
const results = [];
for (const f of folders) {
  const r = await measure(f);
  results.push(r);
  console.log(JSON.stringify(r));
}
mkdirSync(join(REPO, 'out'), { recursive: true });
writeFileSync(join(REPO, 'out', 'measure-lsp.json'), JSON.stringify({ bundle: process.env.LRP_LENS_TEST_BUNDLE === '1', results }, null, 2));
