/** Static checks on transposed convolutions: LRP102 flags stride-2 Conv2DTranspose with k = 3 (the checkerboard source), not k = 4; geometry follows the upsampling. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REAL, REPO } from '../../testing/paths.js';
import { loadModel } from '../model/load.js';
import { runStaticChecks } from './catalogue.js';
import { computeGeometry } from './geometry.js';

const FIX = join(REPO, 'server', 'src', 'core', 'lrp', 'fixtures', 'zennit-transposed');

test('LRP102 flags the four k3 stride-2 Conv2DTranspose layers of the real sun-decoder as checkerboard sources', async () => {
  const fs = runStaticChecks(await loadModel(join(REAL, 'sun-decoder-deconv', 'decoder.h5')), {});
  const grid = fs.filter((f) => f.code === 'LRP102');
  assert.deepEqual(grid.map((f) => f.layer!.name), ['conv2d_transpose', 'conv2d_transpose_1', 'conv2d_transpose_2', 'conv2d_transpose_3']);
  for (const f of grid) {
    assert.equal(f.data!.transposed, true);
    assert.match(f.message, /receive 2 or 1 inputs/);
  }
});

test('LRP102 leaves a k4 stride-2 transposed conv alone; geometry halves the jump and grows the field by ceil(k/s) - 1', async () => {
  const prelu = await loadModel(join(FIX, 'prelu', 'model.onnx'));
  const fs = runStaticChecks(prelu, {});
  assert.ok(!fs.some((f) => f.code === 'LRP102'), fs.map((f) => f.code).join(','));
  const convt = await loadModel(join(FIX, 'convt', 'model.onnx'));
  const flagged = runStaticChecks(convt, {}).filter((f) => f.code === 'LRP102' && f.data!.transposed).map((f) => f.layer!.name);
  assert.deepEqual(flagged, ['/0/ConvTranspose', '/4/ConvTranspose']);
  const geo = computeGeometry(convt);
  // k3 s2 on the 8x8 input: 16x16 cells half an input cell apart, each fed by 2 input cells per axis.
  assert.deepEqual(geo.byNode.get('/0/ConvTranspose'), { size: [16, 16], rf: [2, 2], jump: [0.5, 0.5] });
});
