import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync, strToU8 } from 'fflate';
import { REAL, REF, scratchDir } from '../../../testing/paths.js';
import { kerasV3Format, loadKerasV3 } from './keras-v3.js';
import { loadKerasH5 } from './keras-h5.js';
import { assertSameGraph, assertTopological, expectLensError } from './keras-testkit.js';
import { kerasConfigToV3, readKerasH5Raw } from '../writers/keras-h5-writer.js';
import { writeKerasZip } from '../writers/keras-zip-writer.js';
import { ZipArchive, crc32 } from './zip.js';

const dir = scratchDir('keras-v3');

test('.keras Sequential (cnn_same) equals the Keras 2 .h5, optimizer vars ignored', async () => {
  const src = join(REF, 'cnn_same', 'model.h5');
  const raw = await readKerasH5Raw(src);
  const out = join(dir, 'cnn_same.keras');
  await writeKerasZip(out, kerasConfigToV3(raw.config), raw.weights);
  assert.equal(kerasV3Format.detect(out, new Uint8Array(readFileSync(out).subarray(0, 512))), true);
  const g = await loadKerasV3(out);
  assert.equal(g.format.name, 'keras-v3');
  assert.equal(g.format.version, '3.3.3');
  assertSameGraph(g, await loadKerasH5(src));
});

test('.keras Functional (ResNet with Add, args/keras_history inbound nodes, BN vars order) equals the .h5', async () => {
  const src = join(REAL, 'mlcommons-tiny', 'pretrainedResnet.h5');
  const raw = await readKerasH5Raw(src);
  const v3 = kerasConfigToV3(raw.config);
  // Keras 3 writes the single input/output endpoint flat: ["input_1", 0, 0].
  assert.equal(typeof (v3.config as any).input_layers[0], 'string');
  const out = join(dir, 'resnet.keras');
  await writeKerasZip(out, v3, raw.weights);
  const g = await loadKerasV3(out);
  assertTopological(g);
  assertSameGraph(g, await loadKerasH5(src));
  assert.deepEqual(g.nodes.find((n) => n.name === 'add_2')?.inbound, ['conv2d_8', 'batch_normalization_6']);
});

test('zip safety: ../ and absolute names, zip bomb, truncated archive, bad CRC', async () => {
  const good = zipSync({ 'config.json': strToU8('{}'), 'model.weights.h5': new Uint8Array(10) });
  for (const name of ['../evil', 'a/../../evil', '/etc/passwd', 'C:\\evil']) {
    const f = join(dir, `evil-${name.replace(/[^a-z]/gi, '_')}.keras`);
    writeFileSync(f, zipSync({ 'config.json': strToU8('{}'), [name]: strToU8('x') }));
    await expectLensError(loadKerasV3(f), 'ZIP_UNSAFE');
  }
  // 64 MiB of zeros deflates to ~64 KiB: ratio ~1000, refused before inflating.
  const bomb = join(dir, 'bomb.keras');
  writeFileSync(bomb, zipSync({ 'config.json': strToU8('{}'), 'model.weights.h5': new Uint8Array(64 << 20) }, { level: 9 }));
  const e = await expectLensError(loadKerasV3(bomb), 'ZIP_UNSAFE');
  assert.match(e.message, /bomb|ratio/);
  // A huge declared size with a tiny payload: patch the central directory's uncompressed size to 3 GiB.
  const lie = new Uint8Array(zipSync({ 'config.json': strToU8('{}'), 'model.weights.h5': new Uint8Array(1000) }));
  const view = new DataView(lie.buffer);
  for (let i = lie.length - 22; i >= 0; i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      let p = view.getUint32(i + 16, true);
      for (let k = 0; k < view.getUint16(i + 10, true); k++) {
        view.setUint32(p + 24, 3 * 1024 ** 3, true);
        p += 46 + view.getUint16(p + 28, true) + view.getUint16(p + 30, true) + view.getUint16(p + 32, true);
      }
      break;
    }
  }
  const lief = join(dir, 'lie.keras');
  writeFileSync(lief, lie);
  await expectLensError(loadKerasV3(lief), 'ZIP_UNSAFE');
  const trunc = join(dir, 'trunc.keras');
  writeFileSync(trunc, good.subarray(0, good.length - 30));
  await expectLensError(loadKerasV3(trunc), 'TRUNCATED');
  // Flip a payload byte of a stored entry: CRC check.
  const stored = zipSync({ 'config.json': [strToU8('{"class_name": "Sequential"}'), { level: 0 }] });
  stored[30 + 11 + 3] ^= 0xff; // inside the payload (after the 30-byte header and the name)
  assert.throws(() => ZipArchive.open(stored).read('config.json'), /CRC|inflate/);
  assert.equal(crc32(strToU8('123456789')), 0xcbf43926);
});

test('.keras refusals: no config.json -> NO_ARCHITECTURE, Lambda, custom module, int8-quantized, missing vars -> MISSING_WEIGHTS', async () => {
  const raw = await readKerasH5Raw(join(REF, 'mlp', 'model.h5'));
  const noCfg = join(dir, 'nocfg.keras');
  writeFileSync(noCfg, zipSync({ 'model.weights.h5': new Uint8Array(10) }));
  await expectLensError(loadKerasV3(noCfg), 'NO_ARCHITECTURE');

  const v3 = kerasConfigToV3(raw.config) as any;
  const lam = structuredClone(v3);
  lam.config.layers.splice(2, 0, { module: 'keras.layers', class_name: 'Lambda', config: { name: 'lam', function: { class_name: '__lambda__', config: { code: 'AAAA' } } }, registered_name: null });
  const lf = join(dir, 'lambda.keras');
  await writeKerasZip(lf, lam, raw.weights);
  await expectLensError(loadKerasV3(lf), 'LAMBDA_LAYER', 'lam');

  const custom = structuredClone(v3);
  custom.config.layers[2].module = 'my_package.layers';
  custom.config.layers[2].registered_name = 'MyPackage>Dense';
  const cf = join(dir, 'custom.keras');
  await writeKerasZip(cf, custom, raw.weights);
  await expectLensError(loadKerasV3(cf), 'CUSTOM_LAYER', 'dense');

  const quant = structuredClone(v3);
  quant.config.layers[2].config.dtype = { module: 'keras', class_name: 'QuantizedDTypePolicy', config: { name: 'int8_from_float32' }, registered_name: null };
  const qf = join(dir, 'quant.keras');
  await writeKerasZip(qf, quant, raw.weights);
  await expectLensError(loadKerasV3(qf), 'UNSUPPORTED_CONFIG', 'dense');

  const missing = { ...raw.weights };
  delete missing.dense_1;
  const mf = join(dir, 'missing.keras');
  await writeKerasZip(mf, v3, missing);
  await expectLensError(loadKerasV3(mf), 'MISSING_WEIGHTS', 'dense_1');
});
