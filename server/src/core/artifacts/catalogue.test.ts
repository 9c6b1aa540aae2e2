import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../../testing/paths.js';
import { runStaticChecks, loadFailureFinding, allChecks, STATIC_CHECKS, MAP_CHECKS } from './catalogue.js';
import { sequential, withResidual } from './test-graphs.js';
import { computeGeometry, paddingBand, resolvedPads } from './geometry.js';
import { LensError } from '../errors.js';
import type { LayerNode } from '../model/graph.js';

const codes = (fs: { code: string }[]): string[] => [...new Set(fs.map((f) => f.code))].sort();

test('a SEVIR-like CNN (5x5 same convs, max-pooling, sigmoid hidden layer, BN after it, sigmoid output) gets LRP101 103 104 105 106', () => {
  const g = sequential([48, 48, 4], [
    { kind: 'Conv', k: 5 }, { kind: 'Pool', op: 'max', k: 2, pad: 'same' },
    { kind: 'Conv', k: 5 }, { kind: 'Pool', op: 'max', k: 2, pad: 'same' },
    { kind: 'Flatten' }, { kind: 'Dense', units: 8, act: 'sigmoid' }, { kind: 'BatchNorm' }, { kind: 'Dense', units: 1, act: 'sigmoid' },
  ]);
  const fs = runStaticChecks(g);
  const c = codes(fs);
  for (const code of ['LRP101', 'LRP103', 'LRP104', 'LRP105', 'LRP106']) assert.ok(c.includes(code), `${code} in ${c}`);
  assert.ok(!c.includes('LRP102'), '2x2 stride-2 pooling is no grid artifact');
  assert.ok(!c.includes('LRP110'), 'convolutions come before the dense layer');
  // The single sigmoid output decides the class by the logit's sign: a warning, not information.
  assert.equal(fs.find((f) => f.code === 'LRP105')!.severity, 'warning');
  // Finding fields: layer index, JSON range, docs link.
  const f101 = fs.find((f) => f.code === 'LRP101')!;
  assert.equal(g.nodes[f101.layer!.index].name, f101.layer!.name);
  assert.deepEqual(f101.location.range, g.nodes[f101.layer!.index].source.jsonRange);
  assert.match(f101.docs, /docs\/findings\/LRP101\.md$/);
});

test('valid padding gives no LRP101; a ZeroPadding layer does', () => {
  const valid = sequential([16, 16, 1], [{ kind: 'Conv', k: 3, pad: 'valid' }, { kind: 'Flatten' }, { kind: 'Dense', units: 1, act: 'sigmoid' }]);
  assert.ok(!codes(runStaticChecks(valid)).includes('LRP101'));
  const zp = sequential([16, 16, 1], [{ kind: 'ZeroPadding', p: 1 }, { kind: 'Conv', k: 3, pad: 'valid' }, { kind: 'Flatten' }, { kind: 'Dense', units: 2 }]);
  assert.deepEqual(runStaticChecks(zp).filter((f) => f.code === 'LRP101').map((f) => f.layer!.name), ['zeropadding_0']);
});

test('TF same padding with stride 2 on an even grid pads one-sided, and the finding says so', () => {
  const g = sequential([32, 32, 1], [{ kind: 'Conv', k: 3, s: 2 }, { kind: 'Flatten' }, { kind: 'Dense', units: 2 }]);
  // (ceil(32/2)-1)*2 + 3 - 32 = 1 cell in total, placed after.
  assert.deepEqual(resolvedPads(g.nodes[1], g), [[0, 1], [0, 1]]);
  const f = runStaticChecks(g).find((x) => x.code === 'LRP101')!;
  assert.equal(f.data!.oneSided, true);
});

test('the padding band of a first 5x5 same conv reaches 4 cells in (units 0 and 1 read the 2-cell padding)', () => {
  const g = sequential([20, 20, 1], [{ kind: 'Conv', k: 5 }, { kind: 'Flatten' }, { kind: 'Dense', units: 2 }]);
  assert.deepEqual(paddingBand(g.nodes[1], g, computeGeometry(g)), [[4, 4], [4, 4]]);
});

test('LRP102 flags stride 2 with k=3 and the 1x1 stride-2 shortcut, not k=2 or k=4', () => {
  const bad = sequential([32, 32, 1], [{ kind: 'Conv', k: 3, s: 2, pad: 'valid' }, { kind: 'Flatten' }, { kind: 'Dense', units: 2 }]);
  assert.ok(codes(runStaticChecks(bad)).includes('LRP102'));
  for (const k of [2, 4]) {
    const ok = sequential([32, 32, 1], [{ kind: 'Conv', k, s: 2, pad: 'valid' }, { kind: 'Flatten' }, { kind: 'Dense', units: 2 }]);
    assert.ok(!codes(runStaticChecks(ok)).includes('LRP102'), `k=${k}`);
  }
  const res = withResidual(sequential([16, 16, 4], [{ kind: 'Conv', k: 3, pad: 'same' }]));
  const fs = runStaticChecks(res);
  const shortcut = fs.find((f) => f.code === 'LRP102' && f.layer!.name === 'shortcut')!;
  assert.equal(shortcut.data!.skipsCells, true);
  assert.ok(fs.some((f) => f.code === 'LRP109' && f.layer!.name === 'add' && f.severity === 'information'));
});

test('LRP104 stays quiet for BN right after a linear conv, fires for BN as the first layer', () => {
  const ok = sequential([8, 8, 1], [{ kind: 'Conv', k: 3, act: 'linear' }, { kind: 'BatchNorm' }, { kind: 'Activation', act: 'relu' }, { kind: 'Flatten' }, { kind: 'Dense', units: 2, act: 'linear' }]);
  assert.ok(!codes(runStaticChecks(ok)).includes('LRP104'));
  const first = sequential([8, 8, 1], [{ kind: 'BatchNorm' }, { kind: 'Conv', k: 3 }, { kind: 'Flatten' }, { kind: 'Dense', units: 2, act: 'linear' }]);
  assert.match(runStaticChecks(first).find((f) => f.code === 'LRP104')!.message, /first layer/);
});

test('LRP107 fires on a linear MLP only; LRP110 on a dense layer over a flattened grid only', () => {
  const lin = sequential([16, 32, 1], [{ kind: 'Flatten' }, { kind: 'Dense', units: 8, act: 'linear' }, { kind: 'Dense', units: 2, act: 'softmax' }]);
  const c = codes(runStaticChecks(lin));
  assert.ok(c.includes('LRP107') && c.includes('LRP110'));
  const relu = sequential([16, 32, 1], [{ kind: 'Flatten' }, { kind: 'Dense', units: 8 }, { kind: 'Dense', units: 2, act: 'softmax' }]);
  assert.ok(!codes(runStaticChecks(relu)).includes('LRP107'));
  const vec = sequential([36], [{ kind: 'Dense', units: 2 }, { kind: 'Dense', units: 1, act: 'sigmoid' }]);
  assert.ok(!codes(runStaticChecks(vec)).includes('LRP110'), 'a vector input is not a grid');
});

test('LRP108 fires when biases dwarf the weight norms', () => {
  // Dense 4 -> 2 with weights 0.1*cos: norms about 0.14; bias 10 is ~70x that.
  const g = sequential([4], [{ kind: 'Dense', units: 2, bias: 10 }, { kind: 'Dense', units: 2, act: 'linear' }]);
  const f = runStaticChecks(g).filter((x) => x.code === 'LRP108');
  assert.deepEqual(f.map((x) => x.layer!.name), ['dense_0']);
});

test('LRP112 counts z+ layers of the chosen composite: five convs under epsilon-plus fire, four do not, epsilon never', () => {
  const convs = (n: number) => sequential([32, 32, 1], [...Array.from({ length: n }, () => ({ kind: 'Conv' as const, k: 3 })), { kind: 'GlobalPool', op: 'avg' }, { kind: 'Dense', units: 2, act: 'linear' }]);
  assert.ok(codes(runStaticChecks(convs(5), { composite: 'epsilon-plus' })).includes('LRP112'));
  assert.ok(!codes(runStaticChecks(convs(4), { composite: 'epsilon-plus' })).includes('LRP112'));
  assert.ok(!codes(runStaticChecks(convs(5), { composite: 'epsilon' })).includes('LRP112'));
  assert.ok(!codes(runStaticChecks(convs(5))).includes('LRP112'), 'no composite named: nothing to judge');
});

test('LRP113 reports the receptive field: two 3x3 convs and a 2x2 pool see 6x6 cells, 8x8 after a second pool stage', () => {
  const g = sequential([32, 64, 1], [{ kind: 'Conv', k: 3 }, { kind: 'Conv', k: 3 }, { kind: 'Pool', op: 'avg', k: 2 }, { kind: 'Flatten' }, { kind: 'Dense', units: 2 }]);
  const f = runStaticChecks(g).find((x) => x.code === 'LRP113')!;
  // rf: 1 -> 3 -> 5 -> 5 + (2-1)*1 = 6.
  assert.deepEqual(f.data!.receptiveField, [6, 6]);
  assert.equal(f.data!.share, 36 / (32 * 64));
});

test('LRP111 names a layer the engine cannot propagate (a 3-D conv); a crashing support function becomes a finding, not an exception', () => {
  const g = sequential([8, 8, 1], [{ kind: 'Conv', k: 3 }, { kind: 'Flatten' }, { kind: 'Dense', units: 2 }]);
  const conv3d: LayerNode = { name: 'gate', kind: 'Conv', inbound: ['input'], params: { rank: 3, filters: 1, kernelSize: [1, 1, 1], strides: [1, 1, 1], dilation: [1, 1, 1], padding: { mode: 'valid', pads: [] }, groups: 1, useBias: false }, weights: {}, activation: { name: 'linear' }, outputShape: [null, 8, 8, 1, 1], source: { className: 'Conv3D' } };
  g.nodes.push(conv3d);
  const fs = runStaticChecks(g);
  assert.ok(fs.some((f) => f.code === 'LRP111' && f.severity === 'error' && f.layer!.name === 'gate'));
  const boom = runStaticChecks(g, { lrpSupport: () => { throw new Error('boom'); } });
  assert.ok(boom.some((f) => f.code === 'LRP111' && /could not be evaluated on this model: boom/.test(f.message)));
});

test('severity overrides: off removes a code, a severity replaces it', () => {
  const g = sequential([16, 16, 1], [{ kind: 'Conv', k: 3 }, { kind: 'Pool', op: 'max', k: 2 }, { kind: 'Flatten' }, { kind: 'Dense', units: 2 }]);
  const fs = runStaticChecks(g, { severity: { LRP101: 'off', LRP103: 'error' } });
  assert.ok(!fs.some((f) => f.code === 'LRP101'));
  assert.equal(fs.find((f) => f.code === 'LRP103')!.severity, 'error');
});

test('LRP100 carries the loader error code, message and layer', () => {
  const f = loadFailureFinding(new LensError('MISSING_WEIGHTS', 'no weights for dense_1', { file: '/x/m.h5', layer: 'dense_1' }));
  assert.equal(f.code, 'LRP100');
  assert.equal(f.severity, 'error');
  assert.equal(f.location.file, '/x/m.h5');
  assert.match(f.message, /MISSING_WEIGHTS: no weights for dense_1 \(layer 'dense_1'\)/);
});

test('the catalogue has unique codes LRP100-LRP116 and LRP201-LRP216, each with a docs page', async () => {
  const { existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { REPO } = await import('../../testing/paths.js');
  const all = allChecks().map((m) => m.code);
  const want = [...Array.from({ length: 17 }, (_, i) => `LRP${100 + i}`), ...Array.from({ length: 16 }, (_, i) => `LRP${201 + i}`)];
  assert.deepEqual(all, want);
  assert.equal(STATIC_CHECKS.length + MAP_CHECKS.length + 1, want.length);
  for (const code of all) assert.ok(existsSync(join(REPO, 'docs', 'findings', `${code}.md`)), `docs/findings/${code}.md`);
});

test('each docs page states the default severity the code uses, and docs links rewrite to the local page', async () => {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { REPO } = await import('../../testing/paths.js');
  const { docsLink, rewriteDocsLink } = await import('./docs-link.js');
  for (const m of allChecks()) {
    const page = readFileSync(join(REPO, 'docs', 'findings', `${m.code}.md`), 'utf8');
    assert.ok(page.startsWith(`# ${m.code}: `), m.code);
    assert.ok(page.includes(`Default severity: **${m.severity}**`), `${m.code} page says ${m.severity}`);
  }
  const local = rewriteDocsLink(docsLink('LRP202'), REPO);
  assert.ok(local.startsWith('file://') && local.endsWith('/docs/findings/LRP202.md'));
  assert.equal(rewriteDocsLink('https://example.org/x', REPO), 'https://example.org/x');
});

test("the README's findings table lists every code with its default severity, and every code has its docs page", () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  for (const m of allChecks()) {
    const row = new RegExp(`^\\| \\[${m.code}\\]\\(docs/findings/${m.code}\\.md\\) \\| [^|]+ \\| ${m.severity} \\|$`, 'm');
    assert.match(readme, row, `${m.code} (${m.severity}) in README.md`);
    assert.ok(existsSync(join(REPO, 'docs', 'findings', `${m.code}.md`)), `docs/findings/${m.code}.md`);
  }
});
