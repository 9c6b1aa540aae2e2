/**
 * `explain --shard I/N` + `merge` against one machine's run on a real sample model of
 * samples/lrp-lens.json (cnn_same_maxpool on the ERSSTv5 field, 468 months, three labelled classes):
 * the same class means (to float32 rounding), the same maps, the same findings as `lrp-lens check`; and
 * the merge refusing shard sets that are not one whole run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAMPLES, scratchDir } from '../testing/paths.js';
import { readNpyFile } from '../testing/arrays.js';
import { toFloat32 } from '../core/array.js';
import { writeNpy } from '../core/data/npy.js';
import { LensError } from '../core/errors.js';
import { run as explainCli } from './explain.js';
import { run as mergeCli } from './merge.js';
import { checkPaths } from './check.js';
import { parseShard, shardRange } from '../core/session/shards.js';

const PROJECT = join(SAMPLES, 'lrp-lens.json');
const NAME = 'cnn_same_maxpool';
const MODEL = join(SAMPLES, 'models', NAME, 'model.json');
const skip = !existsSync(MODEL) && 'sample models not built';
const dir = scratchDir('shard-merge');
const base = ['--config', PROJECT, '--model', NAME];

async function cli(run: (a: string[], w: (s: string) => void) => Promise<number>, args: string[]): Promise<Record<string, unknown>> {
  let out = '';
  assert.equal(await run([...args, '--json'], (s) => void (out += s)), 0);
  return JSON.parse(out) as Record<string, unknown>;
}

/** What a finding says (as JSON output carries it). */
const said = (fs: unknown[]) => (JSON.parse(JSON.stringify(fs)) as { code: string; severity: string; message: string; layer?: { name: string }; data?: unknown }[]).map((f) => ({ code: f.code, severity: f.severity, message: f.message, layer: f.layer?.name, data: f.data }));

test('--shard parsing and blocks: every sample in exactly one block, in order', () => {
  assert.deepEqual(parseShard('2/3'), { index: 2, count: 3 });
  for (const bad of ['3/3', '-1/3', '1/0', '1', 'a/b', '1/3/4', '']) assert.throws(() => parseShard(bad), (e: LensError) => e.code === 'USAGE');
  for (const [n, N] of [[468, 3], [5, 7], [0, 2], [10, 1]]) {
    const seen: number[] = [];
    for (let i = 0; i < N; i++) {
      const { start, stop } = shardRange(n, { index: i, count: N });
      for (let s = start; s < stop; s++) seen.push(s);
    }
    assert.deepEqual(seen, [...Array(n).keys()]);
  }
});

test('3 shards + merge give the single run\'s class means, maps and findings', { skip, timeout: 900_000 }, async () => {
  const single = join(dir, 'single.npy');
  const j = await cli(explainCli, [...base, '--out', single]);
  const labels = (j.samples as { label: number }[]).map((s) => s.label);
  const r = readNpyFile(single);
  const maps = toFloat32(r);
  const n = r.shape[0];
  const per = maps.length / n;
  // The single run's class means, float64, by label.
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  const want = classes.map((c) => {
    const m = new Float64Array(per);
    let k = 0;
    labels.forEach((l, s) => {
      if (l !== c) return;
      k++;
      for (let i = 0; i < per; i++) m[i] += maps[s * per + i];
    });
    return m.map((v) => v / k);
  });

  const shards = [0, 1, 2].map((i) => join(dir, `shard${i}`));
  for (let i = 0; i < 3; i++) {
    const s = await cli(explainCli, [...base, '--shard', `${i}/3`, '--maps', '--out', shards[i]]);
    assert.equal(s.engine, 'onnxruntime');
  }
  const mergedDir = join(dir, 'merged');
  // Shards in any order on the command line.
  const m = await cli(mergeCli, [shards[2], shards[0], shards[1], '--out', mergedDir]);
  assert.deepEqual((m.classes as { class: number; count: number }[]).map((c) => c.class), classes);
  assert.deepEqual((m.classes as { count: number }[]).map((c) => c.count), classes.map((c) => labels.filter((l) => l === c).length));
  const means = readNpyFile(join(mergedDir, 'class-means.npy'));
  assert.equal(means.dtype, 'f8');
  assert.deepEqual(means.shape, [classes.length, ...r.shape.slice(1)]);
  classes.forEach((_, ci) => {
    const got = (means.data as Float64Array).subarray(ci * per, (ci + 1) * per);
    const scale = want[ci].reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    assert.ok(scale > 0, 'class mean is not all zero');
    for (let i = 0; i < per; i++) assert.ok(Math.abs(got[i] - want[ci][i]) <= 2 ** -24 * scale, `class ${ci} cell ${i}: ${got[i]} vs ${want[ci][i]}`);
  });
  assert.deepEqual(toFloat32(readNpyFile(join(mergedDir, 'relevance.npy'))), maps);

  const checked = await checkPaths([MODEL], { config: PROJECT });
  assert.ok(checked.findings.some((f) => /^LRP2/.test(f.code)), 'the single run has map findings');
  assert.deepEqual(said(m.findings as unknown[]), said(checked.findings));
});

test('merge refuses a missing shard, a repeated one, shards of another run and a manifest that lies', { skip, timeout: 600_000 }, async () => {
  const a = join(dir, 'r0');
  const b = join(dir, 'r1');
  const other = join(dir, 'other1');
  await cli(explainCli, [...base, '--shard', '0/2', '--no-checks', '--out', a]);
  await cli(explainCli, [...base, '--shard', '1/2', '--no-checks', '--out', b]);
  await cli(explainCli, [...base, '--shard', '1/2', '--no-checks', '--composite', 'epsilon', '--out', other]);
  const out = join(dir, 'bad-merge');
  const refused = async (dirs: string[], pattern: RegExp) =>
    assert.rejects(mergeCli([...dirs, '--out', out], () => undefined), (e: LensError) => e.code === 'BAD_INPUT' && pattern.test(e.message));
  await refused([a], /shard\(s\) 1\/2 missing/);
  await refused([a, a, b], /given twice/);
  await refused([a, other], /another run/);
  const m = await cli(mergeCli, [a, b, '--out', out]);
  assert.equal(m.findings, null);
  // A manifest whose counts do not add up to its block is refused before its arrays are read.
  const lying = join(dir, 'lying');
  await cli(explainCli, [...base, '--shard', '1/2', '--no-checks', '--out', lying]);
  const file = join(lying, 'shard.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8'));
  manifest.classes[0].count += 1;
  writeFileSync(file, JSON.stringify(manifest));
  await refused([a, lying], /class counts do not add up/);
  // Arrays that disagree with their manifest, and findings that are not findings.
  const shapes = join(dir, 'shapes');
  await cli(explainCli, [...base, '--shard', '1/2', '--no-checks', '--out', shapes]);
  writeFileSync(join(shapes, 'class-sums.npy'), writeNpy(new Float64Array(3), [3]));
  await refused([a, shapes], /class-sums\.npy: f8 \[3\], the manifest says f8/);
  const odd = JSON.parse(readFileSync(join(b, 'shard.json'), 'utf8'));
  odd.findings = [null];
  const oddDir = join(dir, 'odd');
  await cli(explainCli, [...base, '--shard', '1/2', '--no-checks', '--out', oddDir]);
  writeFileSync(join(oddDir, 'shard.json'), JSON.stringify(odd));
  await refused([a, oddDir], /bad findings/);
});
