/** The diagnostic for a model that did not load ends with the refusal's hint. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LensError } from '../core/errors.js';
import { loadErrorToDiagnostic } from './convert.js';

const ctx = { uri: 'file:///m.h5', docs: (link: string) => link };

test('a hint is appended to the load-error diagnostic; without one the message is as before', () => {
  const withHint = new LensError('LAMBDA_LAYER', 'layer f is a Lambda layer', { layer: 'f', hint: 'replace the Lambda layer by a built-in layer and re-save' });
  const d = loadErrorToDiagnostic(withHint.toJSON(), ctx);
  assert.equal(d.message, "The model did not load: LAMBDA_LAYER: layer f is a Lambda layer (layer 'f')\nHint: replace the Lambda layer by a built-in layer and re-save");
  const plain = loadErrorToDiagnostic(new LensError('CORRUPT', 'bad', {}).toJSON(), ctx);
  assert.equal(plain.message, 'The model did not load: CORRUPT: bad');
});
