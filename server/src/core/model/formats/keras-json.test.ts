import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { REAL, REF, scratchDir } from '../../../testing/paths.js';
import { kerasJsonFormat, loadKerasJson } from './keras-json.js';
import { loadKerasH5 } from './keras-h5.js';
import { assertSameGraph, expectLensError } from './keras-testkit.js';
import { kerasConfigToV3, readKerasH5Raw, writeKerasWeightsH5 } from '../writers/keras-h5-writer.js';
import { parseJsonWithRanges } from '../../json/located-json.js';

const dir = scratchDir('keras-json');

/** `model.to_json()` output for a Keras 2 config. */
function toJson(config: object, version = '2.11.0'): string {
  return JSON.stringify({ ...config, keras_version: version, backend: 'tensorflow' }, null, 1);
}

test('to_json + X_weights.h5 (Keras 2 save_weights) equals the full .h5; jsonRange points at each layer', async () => {
  const src = join(REF, 'cnn_same', 'model.h5');
  const raw = await readKerasH5Raw(src);
  const d = join(dir, 'pair');
  mkdirSync(d, { recursive: true });
  const text = toJson(raw.config);
  writeFileSync(join(d, 'cnn.json'), text);
  await writeKerasWeightsH5(join(d, 'cnn_weights.h5'), raw.weights, { style: 'keras2', layout: 'legacy', layerNames: raw.layerNames });
  assert.equal(kerasJsonFormat.detect(join(d, 'cnn.json'), new Uint8Array(Buffer.from(text).subarray(0, 512))), true);
  const g = await loadKerasJson(join(d, 'cnn.json'), {});
  assert.equal(g.format.name, 'keras-json');
  assertSameGraph(g, await loadKerasH5(src));
  for (const n of g.nodes) {
    const r = n.source.jsonRange;
    assert.ok(r, `${n.name} has a range`);
    const entry = JSON.parse(text.slice(r[0], r[1]));
    assert.equal(entry.config.name, n.name);
    assert.equal(entry.class_name, n.source.className);
  }
});

test('weights found as X.h5 and X.weights.h5 (Keras 3 vars layout) or given by option', async () => {
  const src = join(REF, 'mlp', 'model.h5');
  const raw = await readKerasH5Raw(src);
  const ref = await loadKerasH5(src);
  const d = join(dir, 'variants');
  mkdirSync(d, { recursive: true });
  // X.h5 holding a full model: its model_weights are used.
  writeFileSync(join(d, 'full.json'), toJson(raw.config));
  copyFileSync(src, join(d, 'full.h5'));
  assertSameGraph(await loadKerasJson(join(d, 'full.json'), {}), ref);
  // Keras 3 JSON + .weights.h5 in vars layout.
  const v3 = kerasConfigToV3(raw.config);
  writeFileSync(join(d, 'k3.json'), JSON.stringify(v3));
  await writeKerasWeightsH5(join(d, 'k3.weights.h5'), raw.weights, { style: 'keras3', layout: 'vars', modelConfig: v3, optimizerVars: 2 });
  const g3 = await loadKerasJson(join(d, 'k3.json'), {});
  assertSameGraph(g3, ref);
  // Explicit weights path with another name.
  writeFileSync(join(d, 'explicit.json'), toJson(raw.config));
  await writeKerasWeightsH5(join(d, 'some-other-name.h5'), raw.weights, { style: 'keras2', layout: 'legacy', layerNames: raw.layerNames });
  assertSameGraph(await loadKerasJson(join(d, 'explicit.json'), { weightsPath: join(d, 'some-other-name.h5') }), ref);
});

test('no weights next to it -> MISSING_WEIGHTS; bad JSON -> BAD_JSON with position; TF.js files are not claimed', async () => {
  const raw = await readKerasH5Raw(join(REF, 'mlp', 'model.h5'));
  const d = join(dir, 'bad');
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'alone.json'), toJson(raw.config));
  const e = await expectLensError(loadKerasJson(join(d, 'alone.json'), {}), 'MISSING_WEIGHTS');
  assert.match(e.message, /alone_weights\.h5/);
  writeFileSync(join(d, 'broken.json'), '{"class_name": "Sequential", "config": {"layers": [1, 2,]}}');
  const b = await expectLensError(loadKerasJson(join(d, 'broken.json'), {}), 'BAD_JSON');
  assert.match(b.message, /line 1, column 5\d/);
  const tfjsHead = new Uint8Array(readFileSync(join(REAL, 'tfjs-abalone', 'model.json')).subarray(0, 512));
  assert.equal(kerasJsonFormat.detect('model.json', tfjsHead), false);
});

test('json-pos: ranges, NaN/Infinity, __proto__ keys, depth limit', () => {
  const text = '{"a": [1, {"b": NaN}], "__proto__": {"x": -Infinity}}';
  const p = parseJsonWithRanges(text);
  const v = p.value as any;
  assert.ok(Number.isNaN(v.a[1].b));
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.equal(v.__proto__.x, -Infinity);
  assert.equal(text.slice(...p.rangeOf(v.a)!), '[1, {"b": NaN}]');
  assert.deepEqual(JSON.parse(readFileSync(join(REAL, 'tfjs-abalone', 'model.json'), 'utf8')), parseJsonWithRanges(readFileSync(join(REAL, 'tfjs-abalone', 'model.json'), 'utf8')).value);
  assert.throws(() => parseJsonWithRanges('['.repeat(10000)), /nesting too deep/);
  assert.throws(() => parseJsonWithRanges('{"a": "\\q"}'), /bad escape/);
});
