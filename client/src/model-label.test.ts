import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distinctiveName, fileAndFolder, modelLabel } from './model-label.js';

test('a model is named by its file and parent folder, not by the generic name inside it', () => {
  // Two Keras Sequential models, both "sequential" inside: told apart by their folders.
  const a = modelLabel({ file: '/ws/samples/models/resnet_small/model.h5', name: 'sequential', format: { name: 'keras-h5' } }, 'samples/models/resnet_small/model.h5');
  const b = modelLabel({ file: '/ws/samples/models/cnn_stride2/model.h5', name: 'sequential_1', format: { name: 'keras-h5' } }, 'samples/models/cnn_stride2/model.h5');
  assert.equal(a.label, 'resnet_small/model.h5');
  assert.equal(b.label, 'cnn_stride2/model.h5');
  assert.equal(a.description, 'samples/models/resnet_small · keras-h5');
  assert.ok(!a.description.includes('sequential') && !b.description.includes('sequential'));
});

test('a distinctive name inside the file is kept in the description; a failed model says so', () => {
  const m = modelLabel({ file: '/ws/sevir/MyFirstCNN.h5', name: 'unet_2d', format: { name: 'keras-h5' }, state: 'error' }, 'sevir/MyFirstCNN.h5');
  assert.equal(m.label, 'sevir/MyFirstCNN.h5');
  assert.equal(m.description, 'keras-h5 · "unet_2d" · did not load');
});

test('Windows paths, files at a root, SavedModel folders', () => {
  assert.equal(fileAndFolder('C:\\Users\\me\\nino\\member0.h5'), 'nino/member0.h5');
  assert.equal(fileAndFolder('C:\\member0.h5'), 'member0.h5');
  assert.equal(fileAndFolder('/model.onnx'), 'model.onnx');
  assert.equal(fileAndFolder('/ws/exports/target_temp/'), 'exports/target_temp');
});

test('which names inside a file are distinctive', () => {
  for (const generic of ['sequential', 'sequential_3', 'Functional', 'model', 'model_1', 'main_graph', 'torch_jit']) assert.equal(distinctiveName(generic, '/a/b/x.h5'), false, generic);
  assert.equal(distinctiveName('member0', '/a/member0.h5'), false, 'the file stem');
  assert.equal(distinctiveName('', '/a/x.h5'), false);
  assert.equal(distinctiveName('resnet_v1', '/a/model.h5'), true);
});
