/**
 * The checks' view of a composite (composite-rules.ts) is the engine's: the same rule family on every
 * layer, for every named composite and under a user rule map. Regressions: a second table once gave
 * epsilon-gamma-box's ZBox to the first linear layer (a Dense), where the engine gives it to the first
 * convolution; and LRP112 never saw a z+ chain that a rule map made.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REAL } from '../../testing/paths.js';
import { loadModel } from '../model/load.js';
import { useBackend } from '../backend.js';
import { LrpExplainer } from '../lrp/engine.js';
import { parseRuleMap } from '../lrp/composites.js';
import { COMPOSITE_NAMES } from '../names.js';
import type { ModelGraph } from '../model/graph.js';
import { rulesFor } from './composite-rules.js';
import { runStaticChecks } from './catalogue.js';
import { isLinear } from './geometry.js';
import { sequential } from './test-graphs.js';

const DECODER = join(REAL, 'sun-decoder-deconv', 'decoder.h5'); // Dense, then Conv / ConvTranspose
const RESNET = join(REAL, 'mlcommons-tiny', 'pretrainedResnet.h5'); // Conv first, Dense last
const MLP = join(REAL, 'sevir', 'MyFirstNN.h5'); // Dense only

/** The family the engine's explainer applies to each linear layer. */
function engineFamilies(graph: ModelGraph, composite: string, rules = ''): Map<string, string> {
  const ex = new LrpExplainer(graph, { composite, ruleMap: parseRuleMap(rules) });
  try {
    return new Map(graph.nodes.filter(isLinear).map((n) => [n.name, ex.composite.rules.get(n.name)!.family]));
  } finally {
    ex.dispose();
  }
}

function checkFamilies(graph: ModelGraph, composite: string, rules = ''): Map<string, string> {
  const all = rulesFor(graph, composite, parseRuleMap(rules))!;
  return new Map(graph.nodes.filter(isLinear).map((n) => [n.name, all.get(n.name)!]));
}

test('epsilon-gamma-box: the checks see ZBox on the first convolution exactly where the engine applies it, never on a leading Dense', async () => {
  await useBackend('cpu');
  const decoder = await loadModel(DECODER);
  const fam = checkFamilies(decoder, 'epsilon-gamma-box');
  // Zennit's EpsilonGammaBox maps ZBox to the first convolution; the decoder's first linear layer is a Dense.
  assert.equal(fam.get('dense_1'), 'epsilon');
  assert.equal(fam.get('conv2d_6'), 'zbox');
  assert.equal([...fam.values()].filter((f) => f === 'zbox').length, 1);
  assert.deepEqual(fam, engineFamilies(decoder, 'epsilon-gamma-box'));

  const resnet = await loadModel(RESNET);
  const r = checkFamilies(resnet, 'epsilon-gamma-box');
  assert.equal(r.get('conv2d'), 'zbox');
  assert.equal(r.get('conv2d_1'), 'gamma');
  assert.equal(r.get('dense'), 'epsilon');
  assert.deepEqual(r, engineFamilies(resnet, 'epsilon-gamma-box'));

  const mlp = await loadModel(MLP);
  assert.deepEqual([...checkFamilies(mlp, 'epsilon-gamma-box').values()], ['epsilon', 'epsilon', 'epsilon'], 'no convolution, no ZBox');
});

test('every named composite, and a rule map on top: the checks and the engine give each linear layer the same family', async () => {
  await useBackend('cpu');
  for (const file of [DECODER, RESNET, MLP]) {
    const g = await loadModel(file);
    for (const c of COMPOSITE_NAMES) assert.deepEqual(checkFamilies(g, c), engineFamilies(g, c), `${file} ${c}`);
    const map = 'first=flat;last=alpha-beta:1:0';
    assert.deepEqual(checkFamilies(g, 'epsilon', map), engineFamilies(g, 'epsilon', map), `${file} with ${map}`);
  }
});

test('rulesFor knows only composite names: a baseline or an unknown name has nothing to judge', () => {
  const g = sequential([8], [{ kind: 'Dense', units: 2 }]);
  for (const name of ['gradient', 'smoothgrad', 'zplus', 'epsilon_plus', 'constructor']) assert.equal(rulesFor(g, name), undefined, name);
});

test('LRP112 sees a z+ chain that a user rule map makes, by the rule family whatever its spelling', () => {
  const convs = (n: number) => sequential([32, 32, 1], [...Array.from({ length: n }, () => ({ kind: 'Conv' as const, k: 3 })), { kind: 'GlobalPool', op: 'avg' }, { kind: 'Dense', units: 2, act: 'linear' }]);
  const lrp112 = (n: number, composite: string, rules: string) =>
    runStaticChecks(convs(n), { composite, ruleMap: parseRuleMap(rules) }).filter((f) => f.code === 'LRP112');
  // epsilon alone has no z+; the rule map puts z+ (or alpha1-beta0, the same rule) on every convolution.
  assert.equal(lrp112(5, 'epsilon', '').length, 0);
  for (const rule of ['zplus', 'alpha-beta:1:0', 'alpha1-beta0']) {
    const f = lrp112(5, 'epsilon', `kind:conv=${rule}`);
    assert.equal(f.length, 1, rule);
    assert.equal(f[0].data?.chainLength, 5);
    assert.match(f[0].message, /with its rule map/);
  }
  // Four z+ layers stay under the threshold; alpha2-beta1 is no z+.
  assert.equal(lrp112(5, 'epsilon', 'index:0-3=zplus').length, 0);
  assert.equal(lrp112(5, 'epsilon', 'kind:conv=alpha-beta:2:1').length, 0);
  // A rule map can also break epsilon-plus's chain: epsilon on the middle convolution leaves 2 + 2.
  assert.equal(lrp112(5, 'epsilon-plus', '').length, 1);
  assert.equal(lrp112(5, 'epsilon-plus', 'index:2=epsilon').length, 0);
});
