/**
 * The CLI as a process on hostile input and in hostile folders (issue 18): output piped to a slow or
 * closing reader, special files (devices, FIFOs, symlinks to them) wherever a path is taken, folder walks
 * that must stay inside their root, report folders holding the user's files, and nonsense option values.
 * A command that hangs is killed at HANG_MS and fails its test; a refusal takes about a second.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO, SAMPLES } from '../testing/paths.js';
import { writeKerasH5 } from '../core/model/writers/keras-h5-writer.js';
import { writeNpy } from '../core/data/npy.js';
import { LensError } from '../core/errors.js';
import { walkFiles } from '../core/walk.js';
import { MANIFEST } from '../core/report/out-dir.js';

const self = fileURLToPath(import.meta.url);
const TS = self.endsWith('.ts');
const ARGV0 = [...(TS ? ['--import', 'tsx'] : []), join(dirname(self), '..', TS ? 'cli.ts' : 'cli.js')];
/** A command still running after this is hung (killed, and the test fails). */
const HANG_MS = 120_000;
const MiB = 1024 * 1024;

const TMP = mkdtempSync(join(tmpdir(), 'lrp-lens-hostile-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
  ms: number;
}

/** Run the CLI to the end (async, so several run side by side). */
function cli(argv: string[]): Promise<Run> {
  return new Promise((done) => {
    const t0 = Date.now();
    const c = spawn(process.execPath, [...ARGV0, ...argv], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => c.kill('SIGKILL'), HANG_MS);
    c.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, out, err, ms: Date.now() - t0 });
    });
  });
}

/** At most `n` CLI runs at a time (the machine's cores are shared). */
async function all<T>(items: T[], n: number, f: (x: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: n }, async () => {
    for (let x = queue.shift(); x !== undefined; x = queue.shift()) await f(x);
  }));
}

/** The `{"error": {...}}` a --json run prints. */
function jsonError(r: Run, what: string): { code: string; message: string } {
  assert.equal(r.signal, null, `${what}: killed after ${r.ms} ms (hung)`);
  assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.out}${r.err}`);
  let parsed: { error?: { code: string; message: string } };
  try {
    parsed = JSON.parse(r.out);
  } catch {
    assert.fail(`${what}: stdout is not JSON: ${r.out.slice(0, 300)}`);
  }
  assert.ok(parsed.error, `${what}: no error object in ${r.out.slice(0, 300)}`);
  assert.notEqual(parsed.error.code, 'INTERNAL', `${what}: ${parsed.error.message}`);
  assert.doesNotMatch(r.err, /\n\s+at /, `${what}: a stack trace on stderr`);
  return parsed.error;
}

// ------------------------------------------------------------------------------------------------ fixtures

const MODEL = join(TMP, 'dense.h5');
const X = join(TMP, 'x.npy');
const FIFO = join(TMP, 'fifo');
const ZERO_LINK = join(TMP, 'zero-link.npy');
const CSV = join(TMP, 'table.csv');

async function fixtures(): Promise<void> {
  if (existsSync(MODEL)) return;
  const config = {
    class_name: 'Sequential',
    config: { name: 's', layers: [
      { class_name: 'InputLayer', config: { name: 'in', batch_input_shape: [null, 4], dtype: 'float32' } },
      { class_name: 'Dense', config: { name: 'd', units: 2, activation: 'linear', use_bias: true } },
    ] },
  };
  await writeKerasH5(MODEL, config, { d: [{ name: 'kernel', shape: [4, 2], data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]) }, { name: 'bias', shape: [2], data: new Float32Array(2) }] }, { style: 'keras2' });
  writeFileSync(X, writeNpy(Float32Array.from([1, 0, -1, 2]), [1, 4]));
  execFileSync('mkfifo', [FIFO]);
  symlinkSync('/dev/zero', ZERO_LINK);
  writeFileSync(CSV, 'a,b\n1,2\n3,4\n');
}

// ------------------------------------------------------------------------------------------------ output

/** The bytes a command writes to stdout when stdout is a file (file writes are synchronous: complete). */
function outputToFile(argv: string[], name: string): Buffer {
  const file = join(TMP, name);
  const fd = openSync(file, 'w');
  try {
    spawnSync(process.execPath, [...ARGV0, ...argv], { cwd: REPO, stdio: ['ignore', fd, 'ignore'], timeout: HANG_MS });
  } finally {
    closeSync(fd);
  }
  return readFileSync(file);
}

/** Read the command's stdout through a pipe, `delayMs` between chunks; or close the pipe after the first chunk. */
function readSlowly(argv: string[], delayMs: number, closeEarly = false): Promise<{ bytes: Buffer; code: number | null; signal: NodeJS.Signals | null; err: string }> {
  return new Promise((done) => {
    const c = spawn(process.execPath, [...ARGV0, ...argv], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let err = '';
    c.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    c.stdout.on('data', (d: Buffer) => {
      chunks.push(d);
      if (closeEarly) return void c.stdout.destroy();
      c.stdout.pause();
      setTimeout(() => c.stdout.resume(), delayMs);
    });
    const timer = setTimeout(() => c.kill('SIGKILL'), HANG_MS);
    c.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ bytes: Buffer.concat(chunks), code, signal, err });
    });
  });
}

/** A CSV whose `data info --json` is about 1.2 MB (40 columns with 30,000-character names). */
function wideCsv(): string {
  const file = join(TMP, 'long-names.csv');
  const names = Array.from({ length: 40 }, (_, i) => `c${String(i).padStart(2, '0')}_${'x'.repeat(30_000)}`);
  const rows = [0, 1, 2].map((r) => names.map((_, i) => String(i + r / 2)).join(','));
  writeFileSync(file, [names.join(','), ...rows].join('\n') + '\n');
  return file;
}

/** A folder of 1,100 unreadable "models" with long names: check's SARIF lists each (about 1.1 MB). */
function brokenModels(): string {
  const dir = join(TMP, 'many-models');
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < 1100; i++) writeFileSync(join(dir, `model_${String(i).padStart(4, '0')}_${'y'.repeat(180)}.onnx`), '');
  return dir;
}

test('output over 1 MiB piped to a slow reader arrives whole: data info --json and check --format sarif', { timeout: 300_000 }, async () => {
  for (const [argv, name] of [
    [['data', 'info', wideCsv(), '--json'], 'info.json'],
    [['check', brokenModels(), '--format', 'sarif'], 'check.sarif'],
  ] as const) {
    const expected = outputToFile([...argv], name);
    assert.ok(expected.length > MiB, `${name}: ${expected.length} bytes (the test needs more than 1 MiB)`);
    JSON.parse(expected.toString('utf8'));
    const t0 = Date.now();
    const r = await readSlowly([...argv], 15);
    assert.equal(r.signal, null, `${name}: hung`);
    assert.equal(r.bytes.length, expected.length, `${name}: bytes through the pipe (${Date.now() - t0} ms)`);
    assert.ok(r.bytes.equals(expected), `${name}: the same bytes as written to a file`);
    JSON.parse(r.bytes.toString('utf8'));
    assert.equal(r.code, name === 'info.json' ? 0 : 1, `${name}: exit status (check: error findings)`);
  }
});

test('a reader that closes the pipe early ends the CLI quietly: no EPIPE stack trace, no hang', { timeout: 120_000 }, async () => {
  for (const argv of [['data', 'info', wideCsv(), '--json'], ['check', brokenModels(), '--format', 'json']]) {
    const r = await readSlowly(argv, 0, true);
    assert.equal(r.signal, null, `${argv[0]}: hung after the reader left`);
    assert.ok(r.bytes.length > 0 && r.bytes.length < MiB, `${argv[0]}: ${r.bytes.length} bytes read before closing`);
    assert.doesNotMatch(r.err, /EPIPE|\n\s+at |Error/, `${argv[0]}: stderr ${r.err.slice(0, 400)}`);
    assert.ok(r.code === 0 || r.code === 1, `${argv[0]}: exit ${r.code}`);
  }
});

// ------------------------------------------------------------------------------------------------ special files

test('devices, FIFOs and symlinks to them are refused fast wherever the CLI takes a path', { timeout: 600_000 }, async () => {
  await fixtures();
  const out = join(TMP, 'r.npy');
  const project = join(TMP, 'special-project');
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'lrp-lens.json'), JSON.stringify({ models: [{ name: 'm', model: '../dense.h5', data: { file: '../x.npy' } }] }));
  const cases: [string, string[]][] = [
    ['explain --input /dev/zero', ['explain', MODEL, '--input', '/dev/zero', '--out', out, '--json']],
    ['explain --input FIFO', ['explain', MODEL, '--input', FIFO, '--out', out, '--json']],
    ['explain --input symlink to /dev/zero', ['explain', MODEL, '--input', ZERO_LINK, '--out', out, '--json']],
    ['explain --rules /dev/zero', ['explain', MODEL, '--input', X, '--rules', '/dev/zero', '--out', out, '--json']],
    ['explain --rules FIFO', ['explain', MODEL, '--input', X, '--rules', FIFO, '--out', out, '--json']],
    ['explain --config /dev/zero', ['explain', '--config', '/dev/zero', '--out', out, '--json']],
    ['explain --data FIFO', ['explain', MODEL, '--data', FIFO, '--out', out, '--json']],
    ['explain --out FIFO', ['explain', MODEL, '--input', X, '--out', FIFO, '--json']],
    ['explain --out a folder', ['explain', MODEL, '--input', X, '--out', TMP, '--json']],
    ['predict --out /dev/zero', ['predict', MODEL, '--input', X, '--out', '/dev/zero', '--json']],
    ['predict --weights FIFO', ['predict', MODEL, '--input', X, '--weights', FIFO, '--out', out, '--json']],
    ['inspect --weights /dev/zero', ['inspect', MODEL, '--weights', '/dev/zero', '--json']],
    ['inspect FIFO', ['inspect', FIFO, '--json']],
    ['data info /dev/zero', ['data', 'info', '/dev/zero', '--json']],
    ['data info FIFO', ['data', 'info', FIFO, '--json']],
    ['data export --out FIFO', ['data', 'export', CSV, '--var', 'a', '--out', FIFO, '--json']],
    ['check /dev/zero', ['check', '/dev/zero', '--format', 'json']],
    ['check --data symlink to /dev/zero', ['check', MODEL, '--data', ZERO_LINK, '--format', 'json']],
    ['check --config FIFO', ['check', '--config', FIFO, '--format', 'json']],
    ['report --out /dev/null', ['report', project, '--out', '/dev/null', '--quiet', '--json']],
    ['report --metrics FIFO', ['report', project, '--out', join(TMP, 'special-report'), '--metrics', FIFO, '--quiet', '--json']],
    ['report --config /dev/zero', ['report', project, '--config', '/dev/zero', '--out', join(TMP, 'special-report'), '--quiet', '--json']],
  ];
  const times: string[] = [];
  await all(cases, 2, async ([what, argv]) => {
    const r = await cli(argv);
    const e = jsonError(r, what);
    assert.ok(['BAD_INPUT', 'FORMAT_UNKNOWN', 'USAGE'].includes(e.code), `${what}: ${e.code}: ${e.message}`);
    assert.match(e.message, /FIFO|device|folder|not a regular file/, `${what}: ${e.message}`);
    times.push(`${what}: ${r.ms} ms`);
  });
  // Nothing was written through the FIFO or over the folder.
  assert.ok(existsSync(FIFO) && !existsSync(join(TMP, 'special-report', 'index.html')));
  console.log(times.join('\n'));
});

// ------------------------------------------------------------------------------------------------ folder walks

test('check walks only inside its folder: no symlinked folders outside it, no /proc, no cycles; each file once', { timeout: 300_000 }, async () => {
  const root = join(TMP, 'walk-root');
  const outside = join(TMP, 'walk-outside');
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(outside, { recursive: true });
  for (const f of [join(root, 'a.onnx'), join(root, 'sub', 'b.onnx'), join(outside, 'c.onnx')]) writeFileSync(f, '');
  symlinkSync(outside, join(root, 'out-link'));
  symlinkSync('/proc', join(root, 'proc'));
  symlinkSync('/', join(root, 'slash'));
  symlinkSync(root, join(root, 'loop'));
  symlinkSync(join(root, 'sub'), join(root, 'sub-link'));
  symlinkSync(join(root, 'sub', 'b.onnx'), join(root, 'b-link.onnx'));
  const r = await cli(['check', root, '--format', 'json']);
  assert.equal(r.signal, null, 'hung');
  const listed = new Set((JSON.parse(r.out) as { findings: { location: { file: string } }[] }).findings.map((f) => f.location.file));
  // Each of the two files inside, once (b.onnx by whichever name comes first in sorted order).
  assert.deepEqual([...listed].sort(), [join(root, 'a.onnx'), join(root, 'b-link.onnx')].sort());

  for (const [what, argv] of [
    ['check /proc', ['check', '/proc', '--format', 'json']],
    ['check /proc/self', ['check', '/proc/self', '--format', 'json']],
  ] as const) {
    const e = jsonError(await cli([...argv]), what);
    assert.equal(e.code, 'USAGE', e.message);
    assert.match(e.message, /kernel tree/);
  }
});

test('a project model glob into /proc/*/cwd is refused by check and report, not listed', { timeout: 300_000 }, async () => {
  const project = join(TMP, 'glob-project');
  mkdirSync(project, { recursive: true });
  // Absolute, and relative from the project folder up to / and down into /proc.
  const up = relative(project, '/proc');
  for (const glob of ['/proc/*/cwd/*.h5', `${up}/*/cwd/**/*.h5`]) {
    writeFileSync(join(project, 'lrp-lens.json'), JSON.stringify({ models: [{ name: 'm', model: glob, data: { file: 'x.npy' } }] }));
    const e = jsonError(await cli(['check', '--config', join(project, 'lrp-lens.json'), '--format', 'json']), `check --config with the glob ${glob}`);
    assert.equal(e.code, 'USAGE', e.message);
    assert.match(e.message, /kernel tree/);
  }
  // The report expands the same globs: the entry fails (its section says why), nothing under /proc is read.
  const out = join(TMP, 'glob-report');
  const r = await cli(['report', project, '--out', out, '--quiet']);
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.out, /not analysed \(USAGE: .*kernel tree/);
  assert.match(readFileSync(join(out, 'index.html'), 'utf8'), /kernel tree/);
});

test('the walk stops with BUDGET_EXCEEDED past its entry budget', async () => {
  const root = join(TMP, 'budget');
  mkdirSync(root, { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(join(root, `f${i}.onnx`), '');
  assert.equal((await walkFiles(root, () => true, { maxEntries: 20 })).length, 20);
  await assert.rejects(walkFiles(root, () => true, { maxEntries: 19 }), (e: unknown) => e instanceof LensError && e.code === 'BUDGET_EXCEEDED');
});

// ------------------------------------------------------------------------------------------------ report folder

test('report --out DIR replaces only its own files: notes.png survives, a foreign index.html stops the run', { timeout: 600_000 }, async () => {
  await fixtures();
  const project = join(TMP, 'report-project');
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'empty.h5'), '');
  // One entry whose model cannot be read: the report still writes its page (a section with the error).
  writeFileSync(join(project, 'lrp-lens.json'), JSON.stringify({ models: [{ name: 'broken', model: 'empty.h5', data: { file: '../x.npy' } }] }));
  const out = join(TMP, 'report-out');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'notes.png'), 'the user\'s own file');
  writeFileSync(join(out, 'keep.html'), '<p>mine</p>');

  const first = await cli(['report', project, '--out', out, '--quiet']);
  assert.equal(first.code, 1, first.out + first.err); // 1: a model could not be analysed
  assert.match(readFileSync(join(out, 'index.html'), 'utf8'), /Made by <code>lrp-lens report<\/code>/);
  assert.deepEqual(JSON.parse(readFileSync(join(out, MANIFEST), 'utf8')).files, ['index.html']);
  const second = await cli(['report', project, '--out', out, '--quiet']);
  assert.equal(second.code, 1, second.out + second.err);
  assert.equal(readFileSync(join(out, 'notes.png'), 'utf8'), 'the user\'s own file');
  assert.equal(readFileSync(join(out, 'keep.html'), 'utf8'), '<p>mine</p>');

  // A report made before manifests existed: its page and the PNGs it shows go, the user's files stay.
  const legacy = join(TMP, 'report-legacy');
  mkdirSync(legacy, { recursive: true });
  writeFileSync(join(legacy, 'index.html'), '<p>Made by <code>lrp-lens report</code></p><img src="old-classes.png">');
  writeFileSync(join(legacy, 'old-classes.png'), 'old');
  writeFileSync(join(legacy, 'notes.png'), 'mine');
  assert.equal((await cli(['report', project, '--out', legacy, '--quiet'])).code, 1);
  assert.ok(!existsSync(join(legacy, 'old-classes.png')), 'the old report\'s PNG is removed');
  assert.equal(readFileSync(join(legacy, 'notes.png'), 'utf8'), 'mine');

  // A folder whose index.html (or a symlink under that name) is not a report's: refused, nothing replaced.
  const foreign = join(TMP, 'report-foreign');
  mkdirSync(foreign, { recursive: true });
  writeFileSync(join(foreign, 'index.html'), '<p>my home page</p>');
  const victim = join(TMP, 'victim.txt');
  writeFileSync(victim, 'precious');
  const linked = join(TMP, 'report-linked');
  mkdirSync(linked, { recursive: true });
  symlinkSync(victim, join(linked, 'index.html'));
  for (const dir of [foreign, linked]) {
    const e = jsonError(await cli(['report', project, '--out', dir, '--quiet', '--json']), `report into ${dir}`);
    assert.equal(e.code, 'BAD_INPUT', e.message);
    assert.match(e.message, /not written by lrp-lens report/);
  }
  assert.equal(readFileSync(join(foreign, 'index.html'), 'utf8'), '<p>my home page</p>');
  assert.equal(readFileSync(victim, 'utf8'), 'precious');
});

// ------------------------------------------------------------------------------------------------ options

test('nonsense option values exit 2 with a structured USAGE/BAD_INPUT error before any work', { timeout: 600_000 }, async () => {
  await fixtures();
  const out = join(TMP, 'opt.npy');
  const nc = join(SAMPLES, 'data', 'ersstv5_anom_5deg_1980-2018.nc');
  const cases: [string, string[], string][] = [
    ['bench --workers abc', ['bench', '--workers', 'abc', '--json'], 'USAGE'],
    ['bench --workers 0', ['bench', '--workers', '0', '--json'], 'USAGE'],
    ['bench --runs 2.5', ['bench', '--runs', '2.5', '--json'], 'USAGE'],
    ['explain --epsilon foo', ['explain', MODEL, '--input', X, '--epsilon', 'foo', '--out', out, '--json'], 'USAGE'],
    ['explain --epsilon ""', ['explain', MODEL, '--input', X, '--epsilon', '', '--out', out, '--json'], 'USAGE'],
    ['explain --gamma -1', ['explain', MODEL, '--input', X, '--gamma', '-1', '--out', out, '--json'], 'USAGE'],
    ['explain --batch-size 0x10', ['explain', MODEL, '--input', X, '--batch-size', '0x10', '--out', out, '--json'], 'USAGE'],
    ['explain --composite __proto__', ['explain', MODEL, '--input', X, '--composite', '__proto__', '--out', out, '--json'], 'USAGE'],
    ['check --composite constructor', ['check', MODEL, '--composite', 'constructor', '--format', 'json'], 'USAGE'],
    ['report --samples many', ['report', TMP, '--out', join(TMP, 'opt-report'), '--samples', 'many', '--json'], 'USAGE'],
    ['data export --select lat=~', ['data', 'export', nc, '--select', 'lat=~', '--out', out, '--json'], 'BAD_INPUT'],
    ['explain --data --select lat=~', ['explain', MODEL, '--data', nc, '--select', 'lat=~', '--out', out, '--json'], 'BAD_INPUT'],
    ['check --data --select lat=~', ['check', MODEL, '--data', nc, '--select', 'lat=~', '--format', 'json'], 'BAD_INPUT'],
  ];
  const times: string[] = [];
  await all(cases, 2, async ([what, argv, code]) => {
    const r = await cli(argv);
    const e = jsonError(r, what);
    assert.equal(e.code, code, `${what}: ${e.message}`);
    times.push(`${what}: ${r.ms} ms: ${e.message}`);
  });
  // Commands named like Object.prototype members are unknown commands, not a crash.
  for (const name of ['constructor', '__proto__', 'toString']) {
    const r = await cli([name]);
    assert.equal(r.code, 2);
    assert.match(r.err, new RegExp(`unknown command '${name}'`));
  }
  console.log(times.join('\n'));
});
