/** A refused model's hint reaches the user: in the CLI's JSON error object and on its text error line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli as cli } from '../testing/cli.js';
import { REF, REPO, scratchDir } from '../testing/paths.js';
import { readKerasH5Raw, writeKerasH5 } from '../core/model/writers/keras-h5-writer.js';

const dir = scratchDir('cli-error-hint');

async function lambdaModel(): Promise<string> {
  const raw = await readKerasH5Raw(join(REF, 'mlp', 'model.h5'));
  (raw.config as { config: { layers: unknown[] } }).config.layers.splice(2, 0, {
    class_name: 'Lambda',
    config: { name: 'my_lambda', function: ['4wEAAAAAAAAA', null, null], function_type: 'lambda' },
  });
  const out = join(dir, 'lambda.h5');
  await writeKerasH5(out, raw.config, raw.weights, { style: 'keras2', layerNames: raw.layerNames });
  return out;
}

test('inspect --json: the error object carries the hint next to code and message', async () => {
  const file = await lambdaModel();
  const r = await cli(['inspect', file, '--json']);
  assert.equal(r.code, 2);
  const e = JSON.parse(r.out).error;
  assert.equal(e.code, 'LAMBDA_LAYER');
  assert.equal(e.layer, 'my_lambda');
  assert.match(e.hint, /replace the Lambda layer/);
  assert.doesNotMatch(e.message, /replace the Lambda layer/);
});

test('inspect (text): a "hint:" line follows the error line', async () => {
  const file = await lambdaModel();
  const here = fileURLToPath(import.meta.url);
  const compiled = here.endsWith('.js');
  const cliPath = join(here, '..', '..', compiled ? 'cli.js' : 'cli.ts');
  const r = spawnSync(process.execPath, [...(compiled ? [] : ['--import', 'tsx']), cliPath, 'inspect', file], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.match(lines[0], /error LAMBDA_LAYER: .*my_lambda/);
  assert.match(lines[1], /^ {2}hint: replace the Lambda layer/);
});
