/** `lrp-lens inspect MODEL [--json] [--weights FILE]`: format, shapes and a Keras-style summary. */
import { parseArgs, flagString } from './args.js';
import { LensError } from '../core/errors.js';
import { loadModel } from '../core/model/load.js';
import { summarize, summaryText } from '../core/model/summary.js';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  const [model, ...extra] = args.positional;
  if (!model || extra.length) throw new LensError('USAGE', 'usage: lrp-lens inspect MODEL [--json] [--weights FILE]');
  const weightsPath = flagString(args, 'weights');
  const graph = await loadModel(model, weightsPath ? { weightsPath } : {});
  const summary = summarize(graph);
  if (args.flags.get('json') === true) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  else process.stdout.write(summaryText(summary) + '\n');
  return 0;
}
