/**
 * `lrp-lens report PATH --out DIR [--config lrp-lens.json] [--samples N] [--metrics FILE] [composite flags]`:
 * an HTML report over every model of a project (PATH: the project folder or its lrp-lens.json). The
 * composite flags are explain's (composite-flags.ts) and win over each entry's explain composite. Prints
 * a summary table and the report's path; progress goes to stderr.
 */
import { existsSync } from 'node:fs';
import { parseArgs, flagInt, flagString, requireFlag } from './args.js';
import { LensError } from '../core/errors.js';
import { formatSummary, projectFileOf, writeReport } from '../core/report/report.js';
import { regularSize } from '../core/data/regular-file.js';
import { outputFolder } from './files.js';
import { COMPOSITE_FLAG_NAMES, COMPOSITE_FLAGS_USAGE, compositeFlags } from './composite-flags.js';
import { DATE_FLAG_NAMES, DATE_FLAGS_USAGE, dateFlags } from './date-flags.js';

const USAGE = `usage: lrp-lens report PATH --out DIR [--config lrp-lens.json] [--samples N] ${DATE_FLAGS_USAGE} [--metrics FILE] ${COMPOSITE_FLAGS_USAGE} [--quiet] [--json]\n`;

export async function run(argv: string[], write: (s: string) => void = (s) => void process.stdout.write(s)): Promise<number> {
  // --json: errors as one JSON object (the dispatcher prints them).
  const args = parseArgs(argv, ['help', 'quiet', 'json']);
  if (args.flags.get('help')) {
    write(USAGE);
    return 0;
  }
  for (const k of args.flags.keys()) if (!['help', 'quiet', 'json', 'out', 'config', 'samples', 'metrics', ...COMPOSITE_FLAG_NAMES, ...DATE_FLAG_NAMES].includes(k)) throw new LensError('USAGE', `unknown option --${k}`);
  const request = await compositeFlags(args);
  const period = dateFlags(args);
  // The report explains each class for itself and checks the predicted class's maps from the composite's start.
  if (request.target !== undefined || request.init !== undefined || (request.method ?? 'lrp') !== 'lrp') throw new LensError('USAGE', 'report explains each class for itself by LRP: --target, --init and --method are for explain');
  if (args.positional.length !== 1) throw new LensError('USAGE', `report needs one project folder (or lrp-lens.json)\n${USAGE}`);
  const quiet = args.flags.get('quiet') === true;
  const config = flagString(args, 'config');
  const samples = flagInt(args, 'samples', 1, 4096);
  const out = await outputFolder(requireFlag(args, 'out'), '--out');
  // The project file and metrics are read as regular files only (a FIFO or /dev/zero is refused).
  const projectFile = projectFileOf(args.positional[0], config);
  if (existsSync(projectFile)) await regularSize(projectFile);
  const metrics = flagString(args, 'metrics');
  if (metrics !== undefined) await regularSize(metrics);
  const res = await writeReport(args.positional[0], {
    out,
    config,
    samples,
    metrics,
    request,
    period,
    progress: quiet ? undefined : (m) => void process.stderr.write(`lrp-lens report: ${m}\n`),
  });
  write(formatSummary(res.rows));
  write(`\n${res.rows.length} model(s), ${res.files.length} PNG(s), ${(res.bytes / 1024).toFixed(0)} KiB in ${res.seconds.toFixed(1)} s\nreport: ${res.index}\n`);
  return res.rows.some((r) => r.error) ? 1 : 0;
}
