/** The one precedence rule for the composite and its parameters: request > lrp-lens.json entry > settings > default. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseComposite, layerFromParams, projectLayer, requestLayer } from './composite-choice.js';

test('each value comes from the first source that gives it, and the choice says which', () => {
  const c = chooseComposite({
    request: { epsilon: 0.5, origin: '--composite' },
    project: projectLayer({ name: 'cnn', explain: { composite: 'epsilon-gamma-box', target: 'label' } }),
    settings: layerFromParams('epsilon-plus', { epsilon: 1e-6, gamma: 0.1, low: -2 }),
  });
  assert.equal(c.composite, 'epsilon-gamma-box');
  assert.equal(c.epsilon, 0.5);
  assert.equal(c.gamma, 0.1);
  assert.equal(c.low, -2);
  assert.equal(c.high, undefined);
  assert.equal(c.target, 'label');
  assert.equal(c.method, 'lrp');
  assert.deepEqual(c.from, { composite: 'project', epsilon: 'request', gamma: 'settings', low: 'settings', target: 'project', method: 'default' });
});

test('the request wins over the entry and the settings; nothing given is the default', () => {
  const project = projectLayer({ name: 'cnn', explain: { composite: 'epsilon-gamma-box', target: 2 } });
  const c = chooseComposite({ request: requestLayer({ composite: 'epsilon', target: 'argmax' }), project, settings: { composite: 'epsilon-plus' } });
  assert.equal(c.composite, 'epsilon');
  assert.equal(c.target, 'predicted');
  assert.equal(c.from.composite, 'request');
  const d = chooseComposite({});
  assert.equal(d.composite, 'epsilon');
  assert.equal(d.target, 'predicted');
  assert.deepEqual(d.rules, []);
  assert.equal(d.from.composite, 'default');
  // Settings alone: the settings' composite (the server's lrpLens.composite).
  assert.equal(chooseComposite({ settings: { composite: 'epsilon-plus' } }).from.composite, 'settings');
});

test('a baseline named as a composite is the method axis; the composite then falls through', () => {
  const c = chooseComposite({ request: requestLayer({ composite: { name: 'integrated-gradients', params: { steps: 64 } } }), settings: { composite: 'epsilon-plus' } });
  assert.equal(c.method, 'integrated-gradients');
  assert.equal(c.baseline.steps, 64);
  assert.equal(c.composite, 'epsilon-plus');
  assert.equal(c.from.composite, 'settings');
  assert.equal(c.from.method, 'request');
});

test('bad names and values are usage errors naming where they came from', () => {
  assert.throws(() => chooseComposite({ project: projectLayer({ name: 'cnn', explain: { composite: 'nope' } }) }), (e: Error & { code: string }) => e.code === 'USAGE' && /cnn's explain\.composite/.test(e.message));
  assert.throws(() => chooseComposite({ request: { target: 'x' } }), (e: Error & { code: string }) => e.code === 'USAGE');
  assert.throws(() => chooseComposite({ request: { init: 'zero' } }), (e: Error & { code: string }) => e.code === 'USAGE');
  assert.throws(() => requestLayer({ rules: 7 }), (e: Error & { code: string }) => e.code === 'BAD_INPUT');
  assert.deepEqual(requestLayer({ rules: 'first=flat' }).rules, [{ first: true, rule: 'flat' }]);
});
