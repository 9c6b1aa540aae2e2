#!/usr/bin/env node
/**
 * The `lrp-lens` command line: a thin shell over the core. Each command lives in cli/<command>.ts and
 * exports `run(argv): Promise<number>` (the exit code). Errors: exit 2, and with --json one object
 * {"error": {code, message, file, layer}} on stdout.
 */
import { toLensError } from './core/errors.js';
import { ownValue } from './core/own-table.js';

const COMMANDS: Record<string, { module: string; summary: string; usage: string }> = {
  inspect: {
    module: './cli/inspect.js',
    summary: 'format, shapes and a Keras-style summary of a model',
    usage: 'lrp-lens inspect MODEL [--weights FILE] [--json]',
  },
  predict: {
    module: './cli/predict.js',
    summary: 'run a model on an input (in the file\'s own layout)',
    usage:
      'lrp-lens predict [MODEL] (--input X.npy[,X2.npy,...] | --data FILE [--var NAME] [--select DIM=START:STOP,...] [--fill V] | --config lrp-lens.json [--model NAME]) --out Y.npy [--weights FILE] [--backend NAME] [--batch-size N] [--json]\n' +
      '       MODEL defaults to the --config entry\'s model file; --fill V: what missing cells of --data become (default 0)',
  },
  explain: {
    module: './cli/explain.js',
    summary: 'LRP relevance for an input',
    usage:
      'lrp-lens explain [MODEL] (--input X.npy | --data FILE [--var NAME] [--select DIM=START:STOP,...] [--fill V] | --config lrp-lens.json [--model NAME]) [--composite NAME] [--epsilon E] [--gamma G] [--low L --high H] [--rules FILE|SPEC] [--target predicted|label|INDEX|A-B|regression] [--init onehot|output] [--max-pool winner|avg] [--backend NAME] [--batch-size N] --out R.npy [--json]\n' +
      '       MODEL defaults to the --config entry\'s model file; the entry\'s explain composite and target apply unless given (default epsilon, predicted);\n' +
      '       epsilon-gamma-box takes --low/--high, or the data\'s range with --data/--config; --target label needs labels in lrp-lens.json\n' +
      '       --shard I/N [--maps] [--no-checks] --out DIR: explain block I of N of the data, write partial class sums (and maps) for lrp-lens merge',
  },
  merge: {
    module: './cli/merge.js',
    summary: 'combine explain --shard folders into class means and findings',
    usage: 'lrp-lens merge DIR... --out OUTDIR [--json]   (class-means.npy, merged.json, relevance.npy when the shards wrote --maps)',
  },
  check: {
    module: './cli/check.js',
    summary: 'artifact checks on models (text, JSON, SARIF)',
    usage:
      'lrp-lens check [PATH...] [--data FILE [--var NAME] [--select DIM=START:STOP,...] [--fill V] | --config lrp-lens.json [--model NAME]] [--composite NAME] [--rules FILE|SPEC] [--format text|json|sarif] [--json]\n' +
      '       with --data or --config the relevance-map checks run too; --config without PATH checks every entry\'s model files on their own data and mask',
  },
  data: {
    module: './cli/data.js',
    summary: 'data info / data export for npy, npz, NetCDF, images, CSV',
    usage: 'lrp-lens data info FILE [--json]\n       lrp-lens data export FILE --var NAME [--select DIM=START:STOP,...] --out X.npy',
  },
  report: {
    module: './cli/report.js',
    summary: 'HTML report over a folder of models and data',
    usage: 'lrp-lens report PATH --out DIR [--config lrp-lens.json] [--samples N]',
  },
  bench: {
    module: './cli/bench.js',
    summary: 'throughput and latency of LRP',
    usage: 'lrp-lens bench [--model FILE --input X.npy] [--backend NAME] [--json]',
  },
  compile: { module: './cli/compile.js', summary: 'LRP as one ONNX graph (runs on any ONNX Runtime)', usage: 'lrp-lens compile MODEL --composite NAME [--epsilon E] [--gamma G] [--low L --high H] [--rules FILE|SPEC] [--init onehot|output] [--max-pool winner|avg] --out relevance.onnx [--json]' },
  lsp: { module: './cli/lsp.js', summary: 'start the language server', usage: 'lrp-lens lsp --stdio | --node-ipc | --socket=PORT' },
};

function usage(): string {
  const lines = ['usage: lrp-lens <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(8)} ${c.summary}`);
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(usage() + '\n');
    return command ? 0 : 2;
  }
  // Own keys only: `lrp-lens constructor` is an unknown command, not Object's constructor.
  const entry = ownValue(COMMANDS, command);
  if (!entry) {
    process.stderr.write(`lrp-lens: unknown command '${command}'\n${usage()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`usage: ${entry.usage}\n`);
    return 0;
  }
  const json = rest.includes('--json') || rest.includes('--format=json') || (rest.includes('--format') && rest[rest.indexOf('--format') + 1] === 'json');
  try {
    const mod = (await import(entry.module)) as { run(argv: string[]): Promise<number> };
    return await mod.run(rest);
  } catch (e) {
    const err = toLensError(e);
    if (json) process.stdout.write(JSON.stringify({ error: err.toJSON() }) + '\n');
    else process.stderr.write(`lrp-lens ${command}: error ${err.code}: ${err.message}${err.layer ? ` (layer ${err.layer})` : ''}${err.file ? ` [${err.file}]` : ''}\n${err.hint ? `  hint: ${err.hint}\n` : ''}`);
    return 2;
  }
}

/** Resolves once `stream` has handed everything written so far to the OS (a pipe drains asynchronously). */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((done) => {
    if (stream.destroyed || !stream.writable) return done();
    // Writes complete in order: the callback of an empty write runs after every earlier write.
    stream.write('', () => done());
  });
}

/**
 * `main` as the process: exits with its status only after stdout and stderr are written out, so JSON or
 * SARIF piped to a slow reader arrives whole (process.exit() right after write() cut it at 64 KiB).
 * A reader that closes early (`| head`) ends the process quietly: no EPIPE stack trace.
 */
export async function runAsProcess(argv: string[]): Promise<void> {
  // Nothing more can be said on a stream that failed: leave at once, with the command's status if it
  // has one (a reader that left early is not an error of the command), else 2 for a real write error.
  const onError = (e: NodeJS.ErrnoException): void => {
    const quiet = e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED';
    process.exit(quiet ? (typeof process.exitCode === 'number' ? process.exitCode : 0) : 2);
  };
  process.stdout.on('error', onError);
  process.stderr.on('error', onError);
  let code: number;
  try {
    code = await main(argv);
  } catch (e) {
    process.stderr.write(String(e) + '\n');
    code = 2;
  }
  process.exitCode = code;
  await flushed(process.stdout);
  await flushed(process.stderr);
  // Exit explicitly: worker pools or a compute backend may hold the event loop open.
  process.exit(code);
}

// Run when executed directly (not when imported by tests or the bin shim).
const invoked = process.argv[1] ?? '';
if (invoked.endsWith('cli.js') || invoked.endsWith('cli.ts')) void runAsProcess(process.argv.slice(2));
