/**
 * `lrp-lens report PATH --out DIR [--config lrp-lens.json] [--samples N] [--metrics FILE]`: an HTML
 * report over every model of a project (PATH: the project folder or its lrp-lens.json). Prints a
 * summary table and the report's path; progress goes to stderr.
 */
import { parseArgs, flagNumber, flagString, requireFlag } from './args.js';
import { LensError } from '../core/errors.js';
import { formatSummary, writeReport } from '../core/report/report.js';

const USAGE = 'usage: lrp-lens report PATH --out DIR [--config lrp-lens.json] [--samples N] [--metrics FILE] [--quiet]\n';

export async function run(argv: string[], write: (s: string) => void = (s) => void process.stdout.write(s)): Promise<number> {
  const args = parseArgs(argv, ['help', 'quiet']);
  if (args.flags.get('help')) {
    write(USAGE);
    return 0;
  }
  for (const k of args.flags.keys()) if (!['help', 'quiet', 'out', 'config', 'samples', 'metrics'].includes(k)) throw new LensError('USAGE', `unknown option --${k}`);
  if (args.positional.length !== 1) throw new LensError('USAGE', `report needs one project folder (or lrp-lens.json)\n${USAGE}`);
  const quiet = args.flags.get('quiet') === true;
  const res = await writeReport(args.positional[0], {
    out: requireFlag(args, 'out'),
    config: flagString(args, 'config'),
    samples: flagNumber(args, 'samples'),
    metrics: flagString(args, 'metrics'),
    progress: quiet ? undefined : (m) => void process.stderr.write(`lrp-lens report: ${m}\n`),
  });
  write(formatSummary(res.rows));
  write(`\n${res.rows.length} model(s), ${res.files.length} PNG(s), ${(res.bytes / 1024).toFixed(0)} KiB in ${res.seconds.toFixed(1)} s\nreport: ${res.index}\n`);
  return res.rows.some((r) => r.error) ? 1 : 0;
}
