/**
 * The remedy twins in `lrp-lens check`'s outputs: each warning with a twin carries the twin's name and
 * statistic (not its map) as `remedyTwin` / `remedyTwinStatistic`, the same numbers in JSON, in SARIF's
 * result properties and on the text line. Case: the benchmark's MLP with a flat first layer (the LRP207
 * and LRP208 positive), whose twin is the epsilon first layer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, modelPath } from '../../../samples/benchmark/cases.js';
import { checkPaths } from './check.js';
import { formatJson, formatSarif, formatText } from './check-format.js';

test('check --data with a flat first layer: LRP207/LRP208 name their epsilon first-layer twin and its statistic in JSON, SARIF and text', { skip: !existsSync(modelPath('mlp-relu')) && 'benchmark models not generated' }, async () => {
  const model = modelPath('mlp-relu');
  const r = await checkPaths([model], { data: join(BENCH_DIR, 'data', 'x_test.npy'), composite: 'epsilon', ruleMap: [{ first: true, rule: 'flat' }] });
  const json = JSON.parse(formatJson(r)) as { findings: { code: string; data?: Record<string, unknown> }[] };
  const sarif = JSON.parse(formatSarif(r, '0.0.0')) as { runs: { results: { ruleId: string; properties: Record<string, unknown> }[] }[] };
  const text = formatText(r);
  for (const code of ['LRP207', 'LRP208']) {
    const j = json.findings.find((f) => f.code === code)?.data;
    assert.ok(j, `${code} fired`);
    assert.match(String(j.remedyTwin), /^epsilon first-layer twin \(epsilon on \S+ instead of flat/);
    const value = j.remedyTwinStatistic as number;
    assert.ok(typeof value === 'number' && value < (j.similarity as number), `${code}: twin ${value} vs ${j.similarity}`);
    const s = sarif.runs[0].results.find((x) => x.ruleId === code)!.properties;
    assert.equal(s.remedyTwin, j.remedyTwin);
    assert.equal(s.remedyTwinStatistic, value);
    const line = text.split('\n').find((l) => l.includes(` ${code} `))!;
    assert.ok(line.endsWith(`; without the artifact, the ${j.remedyTwin} gives ${Number(value.toPrecision(3))}`), line);
  }
  // Only the codes whose remedy the project builds as a twin carry one.
  for (const f of json.findings) if (f.data?.remedyTwin !== undefined) assert.ok(['LRP202', 'LRP204', 'LRP207', 'LRP208', 'LRP210'].includes(f.code), f.code);
});
