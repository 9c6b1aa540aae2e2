/**
 * The code actions and the backend availability through the real server over stdio (a plain LSP
 * client, as Neovim is): "Add data for this model..." on a model with no lrp-lens.json entry, gone once
 * the entry exists; a client command sent back answered with a message; the status notification naming
 * the backends that can run on this machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO, scratchDir } from '../testing/paths.js';
import { startClient } from '../testing/lsp-client.js';
import type { StatusParams } from '../protocol.js';

interface Action {
  title: string;
  kind?: string;
  command?: { command: string; arguments?: unknown[] };
  diagnostics?: unknown[];
}

test('LSP: "Add data for this model..." on a model without data, a view action per finding, and the backends this machine can run', { timeout: 180_000 }, async () => {
  const dir = scratchDir('lsp-code-actions-lsp');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'cnn'), { recursive: true });
  for (const f of ['model.json', 'group1-shard1of1.bin']) copyFileSync(join(REPO, 'samples', 'models', 'cnn_stride2', f), join(dir, 'cnn', f));
  const model = join(dir, 'cnn', 'model.json');
  const uri = pathToFileURL(model).href;

  const c = await startClient(dir);
  const statuses: StatusParams[] = [];
  c.conn.onNotification('lrpLens/status', (s: StatusParams) => void statuses.push(s));
  try {
    const diags = await c.waitFor('diagnostics of the model', () => (c.diagnostics.get(uri)?.length ?? 0) > 0 && c.diagnostics.get(uri)!);
    const ask = (diagnostics: unknown[], only?: string[]) =>
      c.conn.sendRequest<Action[]>('textDocument/codeAction', {
        textDocument: { uri },
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        context: { diagnostics, ...(only ? { only } : {}) },
      });

    const actions = await ask(diags);
    const addData = actions.filter((a) => a.command?.command === 'lrpLens.addData');
    assert.equal(addData.length, 1, JSON.stringify(actions.map((a) => a.title)));
    assert.equal(addData[0].kind, 'quickfix');
    assert.deepEqual(addData[0].command!.arguments, [uri]);
    assert.equal(addData[0].diagnostics!.length, diags.length, 'on every diagnostic of the model');
    // The stride finding of this CNN (k=3, stride 2) opens the stride grid.
    const grid = actions.find((a) => a.command?.command === 'lrpLens.showPanel' && JSON.stringify(a.command.arguments).includes('"stride":true'));
    assert.ok(grid, 'LRP102 -> the stride grid overlay');
    assert.deepEqual(grid!.command!.arguments, [{ model: uri, tab: 'sample', overlays: { stride: true } }]);

    // Without a diagnostic in the request: a source action on the model file.
    const source = await ask([], ['source']);
    assert.deepEqual(source.map((a) => [a.kind, a.command?.command]), [['source.lrpLens.addData', 'lrpLens.addData']]);

    // A plain client that runs the command by sending it back gets a message, not an error.
    const before = c.logs.length;
    assert.equal(await c.conn.sendRequest('workspace/executeCommand', { command: 'lrpLens.addData', arguments: [uri] }), null);
    await c.waitFor('the message', () => c.logs.slice(before).some((l) => l.includes('lrp-lens.json')));

    // Once lrp-lens.json has an entry for the model, no "Add data".
    writeFileSync(join(dir, 'lrp-lens.json'), JSON.stringify({ version: 1, models: [{ name: 'cnn', model: 'cnn/model.json', data: { file: 'x.npy' } }] }));
    assert.equal((await ask(diags)).filter((a) => a.command?.command === 'lrpLens.addData').length, 0);
    assert.deepEqual(await ask([], ['source']), []);

    // The status names what can run here: ONNX Runtime (a dependency), wasm and cpu; tfjs-node packages only when installed.
    const s = await c.waitFor('a status with the backends', () => statuses.find((x) => x.backends));
    const av = Object.fromEntries(s.backends!.map((b) => [b.name, b.available]));
    assert.equal(av.onnxruntime, true);
    assert.equal(av.wasm, true);
    assert.equal(av.cpu, true);
    assert.equal(av['tensorflow-gpu'], existsSync(join(REPO, 'node_modules', '@tensorflow', 'tfjs-node-gpu')));
    for (const b of s.backends!) if (!b.available) assert.ok(b.reason && b.howTo, `${b.name}: why and how`);
  } finally {
    await c.close();
  }
});
