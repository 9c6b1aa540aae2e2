/**
 * Imports run one way: from the front ends down to the model IR (docs/architecture.md). This reads every
 * relative import of the shipped sources (tests and test helpers excluded) and fails on one that goes
 * from a lower layer to a higher one, or from the client or the panel into server code outside the
 * shared project (tsconfig.common.json).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO } from './testing/paths.js';

/** Bottom-up: a module may import its own layer and those below. */
const CORE_LAYERS = ['base', 'model', 'data', 'lrp', 'compute', 'lrp-onnx', 'artifacts', 'session', 'render', 'report'];
const FRONT = 100;

function rank(rel: string): number {
  const parts = rel.split('/');
  if (parts[0] === 'server' && parts[2] === 'core') {
    if (parts.length === 4) return 0; // core/*.ts: errors, names, glob, ...
    const i = CORE_LAYERS.indexOf(parts[3]);
    return i < 0 ? 0 : i;
  }
  return FRONT; // lsp, cli, protocol, client, webview
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return ['fixtures', 'testing', 'node_modules'].includes(d.name) ? [] : sources(p);
    const testOnly = /\.test\.ts$|test-|testutil|fuzz-worker|harness/.test(d.name);
    return d.isFile() && d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') && !testOnly ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+'(\.[^']+)'|import\('(\.[^']+)'\)/g)) {
    out.push(relative(REPO, resolve(dirname(file), (m[1] ?? m[2]).replace(/\.js$/, '.ts'))));
  }
  return out;
}

const files = ['server/src', 'client/src', 'webview/src'].flatMap((d) => sources(join(REPO, d)));

test('no shipped core module imports a layer above its own, or test helpers', () => {
  const upward: string[] = [];
  for (const f of files) {
    const from = relative(REPO, f);
    for (const to of imports(f)) {
      if (to.startsWith('server/src/testing/')) upward.push(`${from} -> ${to} (test helper)`);
      else if (rank(to) > rank(from)) upward.push(`${from} -> ${to}`);
    }
  }
  assert.deepEqual(upward, []);
});

test('the client and the panel import server code only through the shared project', () => {
  const common = new Set((JSON.parse(readFileSync(join(REPO, 'tsconfig.common.json'), 'utf8')) as { files: string[] }).files);
  const crossing: string[] = [];
  for (const f of files) {
    const from = relative(REPO, f);
    const side = from.split('/')[0];
    if (side === 'server') continue;
    for (const to of imports(f)) if (to.split('/')[0] !== side && !common.has(to)) crossing.push(`${from} -> ${to}`);
  }
  assert.deepEqual(crossing, []);
  assert.ok(files.some((f) => relative(REPO, f).startsWith('client/')), 'the scan saw the client');
});
