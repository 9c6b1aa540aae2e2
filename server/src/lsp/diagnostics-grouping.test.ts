/**
 * Less noise: a finding that repeats per layer (the padding warning LRP101 on each of the real ResNet
 * sample's three convolutions) reaches the editor as ONE diagnostic per model and code, saying how many
 * layers, with every layer as related information at its own entry. Driven over stdio like an editor.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { SAMPLES, scratchDir } from '../testing/paths.js';
import type { ListModelsResult } from '../protocol.js';
import { startClient, type TestClient } from '../testing/lsp-client.js';

const dir = scratchDir('lsp-grouping');
const uri = (rel: string) => pathToFileURL(join(dir, rel)).href;
let client: TestClient;

type Related = { location: { uri: string; range: { start: { line: number; character: number } } }; message: string };

before(async () => {
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(SAMPLES, 'models', 'resnet_small'), join(dir, 'resnet_small'), { recursive: true });
  client = await startClient(dir);
});

after(async () => {
  await client?.close();
});

for (const rel of ['resnet_small/model.json', 'resnet_small/model.h5']) {
  test(`${rel}: one diagnostic per code, the repeated layers as related information`, async () => {
    const diags = await client.waitFor(`diagnostics of ${rel}`, () => client.diagnostics.get(uri(rel)));
    const r = (await client.conn.sendRequest('lrpLens/listModels', {})) as ListModelsResult;
    const summary = r.models.find((m) => m.uri === uri(rel))!;
    assert.equal(summary.state, 'ok');
    const findings = summary.findings.filter((f) => f.file === summary.file || !f.file);
    const repeated = findings.filter((f) => f.code === 'LRP101');
    assert.ok(repeated.length >= 2, `the sample repeats LRP101 (${repeated.length})`);
    // One diagnostic per code (every finding of this model names a layer), fewer than the findings.
    const codes = new Set(findings.map((f) => f.code));
    assert.equal(diags.length, codes.size);
    assert.ok(diags.length < findings.length);
    assert.deepEqual(diags.map((d) => d.code).sort(), [...codes].sort());
    const pad = diags.find((d) => d.code === 'LRP101')!;
    const names = repeated.map((f) => f.layer!.name);
    assert.match(pad.message, new RegExp(`^LRP101 in ${repeated.length} layers \\(${names.join(', ')}\\)`));
    assert.match(pad.message, /\nRemedy: /);
    assert.equal(pad.severity, 2);
    const related = pad.relatedInformation as Related[];
    assert.equal(related.length, repeated.length);
    related.forEach((ri, i) => {
      assert.ok(ri.message.startsWith(`layer '${names[i]}' (#${repeated[i].layer!.index}`), ri.message);
      assert.ok(ri.message.includes(repeated[i].message), 'each layer keeps its own message');
      assert.equal(ri.location.uri, uri(rel));
    });
    if (rel.endsWith('.json')) {
      // In the JSON file each related location is its layer's entry.
      const text = readFileSync(join(dir, rel), 'utf8');
      const doc = TextDocument.create(uri(rel), 'json', 0, text);
      related.forEach((ri, i) => {
        const at = doc.offsetAt(ri.location.range.start);
        assert.equal(text[at], '{');
        const entry = text.slice(at, at + 4000);
        assert.ok(entry.includes(`"name": "${names[i]}"`) || entry.includes(`"name":"${names[i]}"`), `${names[i]} at ${at}`);
      });
      assert.deepEqual(pad.range.start, related[0].location.range.start);
    }
    // A code that occurs once keeps its plain one-layer form.
    for (const d of diags.filter((x) => x.code !== 'LRP101')) assert.equal(d.relatedInformation?.length ?? 0, findings.filter((f) => f.code === d.code && f.layer).length ? 1 : 0);
  });
}
