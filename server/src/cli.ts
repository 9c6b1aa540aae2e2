#!/usr/bin/env node
/**
 * The `lrp-lens` command line: a thin shell over the core. Each command lives in cli/<command>.ts and
 * exports `run(argv): Promise<number>` (the exit code). Errors: exit 2, and with --json one object
 * {"error": {code, message, file, layer}} on stdout.
 */
import { toLensError } from './core/errors.js';

const COMMANDS: Record<string, { module: string; summary: string }> = {
  inspect: { module: './cli/inspect.js', summary: 'format, shapes and a Keras-style summary of a model' },
  predict: { module: './cli/predict.js', summary: 'run a model on an input .npy' },
  explain: { module: './cli/explain.js', summary: 'LRP relevance for an input' },
  check: { module: './cli/check.js', summary: 'artifact checks on models (text, JSON, SARIF)' },
  data: { module: './cli/data.js', summary: 'data info / data export for npy, npz, NetCDF, images, CSV' },
  report: { module: './cli/report.js', summary: 'HTML report over a folder of models and data' },
  bench: { module: './cli/bench.js', summary: 'throughput and latency of LRP' },
  lsp: { module: './cli/lsp.js', summary: 'start the language server (--stdio)' },
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
  const entry = COMMANDS[command];
  if (!entry) {
    process.stderr.write(`lrp-lens: unknown command '${command}'\n${usage()}\n`);
    return 2;
  }
  const json = rest.includes('--json') || rest.includes('--format=json') || (rest.includes('--format') && rest[rest.indexOf('--format') + 1] === 'json');
  try {
    const mod = (await import(entry.module)) as { run(argv: string[]): Promise<number> };
    return await mod.run(rest);
  } catch (e) {
    const err = toLensError(e);
    if (json) process.stdout.write(JSON.stringify({ error: err.toJSON() }) + '\n');
    else process.stderr.write(`lrp-lens ${command}: error ${err.code}: ${err.message}${err.layer ? ` (layer ${err.layer})` : ''}${err.file ? ` [${err.file}]` : ''}\n`);
    return 2;
  }
}

// Run when executed directly (not when imported by tests or the bin shim).
const invoked = process.argv[1] ?? '';
if (invoked.endsWith('cli.js') || invoked.endsWith('cli.ts')) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(String(e) + '\n');
      process.exit(2);
    },
  );
}
