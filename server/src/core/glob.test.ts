import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePathGlob } from './glob.js';
import { findEntry, parseProject } from './data/project.js';

test('lrp-lens.json model globs are matched in linear time (the RegExp form backtracked exponentially)', () => {
  // `*a` thirty times then `b`: as a RegExp ([^/]*a){30}b this never finishes on a long run of 'a'.
  const m = compilePathGlob('/w/' + '*a'.repeat(30) + 'b');
  const t0 = process.cpuUsage();
  assert.equal(m.test('/w/' + 'a'.repeat(5000)), false);
  assert.equal(m.test('/w/' + 'a'.repeat(40) + 'b'), true);
  const cpuMs = (process.cpuUsage(t0).user + process.cpuUsage(t0).system) / 1000;
  assert.ok(cpuMs < 2000, `took ${cpuMs} ms of CPU`);
});

test('whole-path globs keep the project-file semantics: ** spans folders, * and ? stay in one', () => {
  const m = compilePathGlob('/p/models/**/*.h5');
  assert.equal(m.test('/p/models/a.h5'), true);
  assert.equal(m.test('/p/models/x/y/a.h5'), true);
  assert.equal(m.test('/p/models/a.onnx'), false);
  assert.equal(m.test('/p/other/a.h5'), false);
  assert.equal(compilePathGlob('/p/m?/*.h5').test('/p/m1/a.h5'), true);
  assert.equal(compilePathGlob('/p/m?/*.h5').test('/p/m12/a.h5'), false);
  assert.equal(compilePathGlob('/p/*.h5').test('/p/x/a.h5'), false);
});

test('findEntry picks the entry whose model glob matches a path, through the same matcher', () => {
  const text = JSON.stringify({
    models: [
      { name: 'a', model: 'models/*/model.h5', data: { file: 'x.npy' } },
      { name: 'b', model: 'other/**/*.onnx', data: { file: 'x.npy' } },
    ],
  });
  const { project } = parseProject(text, '/proj/lrp-lens.json');
  assert.ok(project);
  assert.equal(findEntry(project, '/proj/other/deep/er/m.onnx').name, 'b');
  assert.equal(findEntry(project, '/proj/models/cnn/model.h5').name, 'a');
  assert.throws(() => findEntry(project, '/proj/models/cnn/deeper/model.h5'), /no model/);
});
