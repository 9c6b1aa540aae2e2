/**
 * Time to first diagnostics and memory of the language server on a folder of models: the samples
 * folder, and 20 real model files (19 distinct from ../shared plus one copy). Uses the bundle when
 * LRP_LENS_TEST_BUNDLE=1 (what the .vsix runs), else the sources. Writes out/measure-lsp.json.
 * Usage: npx tsx scripts/measure-lsp.ts [folder ...]
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
