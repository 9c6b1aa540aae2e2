/**
 * Neovim (Debian's, headless) as a real LSP client: it starts `lrp-lens lsp --stdio` on a folder of
 * models, receives the diagnostics, and hovers on a layer of a model.json (fixtures/nvim-client.lua).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REAL, REF, REPO, scratchDir } from '../testing/paths.js';
import { serverCommand } from '../testing/lsp-client.js';

const NVIM = process.env.NVIM_BIN ?? '/usr/bin/nvim';

test('Neovim attaches lrp-lens lsp --stdio to a folder and receives its diagnostics', { skip: existsSync(NVIM) ? false : `no Neovim at ${NVIM} (apt-get install neovim)` }, () => {
  const dir = scratchDir('lsp-nvim');
  rmSync(dir, { recursive: true, force: true });
  const copy = (src: string, rel: string) => {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    copyFileSync(src, join(dir, rel));
    chmodSync(join(dir, rel), 0o644);
  };
  copy(join(REF, 'cnn_same', 'tfjs', 'model.json'), 'tfjs/model.json');
  copy(join(REF, 'cnn_same', 'tfjs', 'group1-shard1of1.bin'), 'tfjs/group1-shard1of1.bin');
  copy(join(REAL, 'sevir', 'MyFirstCNN.h5'), 'sevir/MyFirstCNN.h5');
  copy(join(REAL, 'ninolearn-broken', 'member0.h5'), 'broken/member0.h5');
  const out = join(dir, '..', 'nvim-result.json');
  rmSync(out, { force: true });

  const r = spawnSync(NVIM, ['--headless', '-u', 'NONE', '-i', 'NONE', '-n', '-c', `luafile ${join(REPO, 'server', 'src', 'lsp', 'fixtures', 'nvim-client.lua')}`], {
    env: {
      ...process.env,
      LRP_NVIM_CMD: JSON.stringify(serverCommand()),
      LRP_NVIM_ROOT: dir,
      LRP_NVIM_CWD: REPO,
      LRP_NVIM_EXPECT: '3',
      LRP_NVIM_HOVER_FILE: join(dir, 'tfjs', 'model.json'),
      LRP_NVIM_HOVER_TEXT: '"Conv2D"',
      LRP_NVIM_OUT: out,
    },
    timeout: 150_000,
    encoding: 'utf8',
  });
  assert.ok(existsSync(out), `Neovim wrote no result (status ${r.status}, signal ${r.signal})\n${r.stderr}\n${r.stdout}`);
  const res = JSON.parse(readFileSync(out, 'utf8')) as {
    ok: boolean;
    published: Record<string, string[]>;
    hover: string | null;
    first_ms: number;
    all_ms: number;
    stored_for_hover_buffer: number;
  };
  assert.equal(res.ok, true, `diagnostics did not arrive: ${JSON.stringify(res)}`);
  const uri = (rel: string) => pathToFileURL(join(dir, rel)).href;
  assert.deepEqual(res.published[uri('broken/member0.h5')], ['LRP100']);
  // Neovim's json_encode writes an empty list as {}: normalise.
  const codes = (rel: string) => Object.values(res.published[uri(rel)] ?? {}) as string[];
  assert.ok(uri('sevir/MyFirstCNN.h5') in res.published);
  assert.ok(!codes('sevir/MyFirstCNN.h5').includes('LRP100'));
  assert.ok(uri('tfjs/model.json') in res.published);
  // The hover came back through Neovim's client and names the layer class.
  assert.match(String(res.hover), /Conv2D/);
  // Neovim stored the model.json diagnostics for the buffer it opened (its own diagnostic store).
  assert.equal(res.stored_for_hover_buffer, codes('tfjs/model.json').length);
  process.stdout.write(`# nvim: first diagnostics after ${Math.round(res.first_ms)} ms, all 3 files after ${Math.round(res.all_ms)} ms (includes server start)\n`);
});
