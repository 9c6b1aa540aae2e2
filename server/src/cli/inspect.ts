/** `lrp-lens inspect MODEL [--json] [--weights FILE]`: format, shapes and a Keras-style summary. */
import { parseArgs, flagString } from './args.js';
import { LensError } from '../core/errors.js';
import { loadModel } from '../core/model/load.js';
import type { OmittedLayer } from '../core/model/graph.js';
import { summarize, summaryText } from '../core/model/summary.js';
import { regularSize } from '../core/data/regular-file.js';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  const [model, ...extra] = args.positional;
  if (!model || extra.length) throw new LensError('USAGE', 'usage: lrp-lens inspect MODEL [--json] [--weights FILE]');
  const weightsPath = flagString(args, 'weights');
  if (weightsPath !== undefined) await regularSize(weightsPath);
  const graph = await loadModel(model, weightsPath ? { weightsPath } : {});
  const summary = summarize(graph);
  if (args.flags.get('json') === true) {
    const out = graph.omitted ? { ...summary, omitted: graph.omitted } : summary;
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } else process.stdout.write(summaryText(summary) + omittedText(graph.omitted) + '\n');
  return 0;
}

/** The layers the loader left out (a custom layer and what needs it), one line each. */
function omittedText(omitted: OmittedLayer[] | undefined): string {
  if (!omitted || omitted.length === 0) return '';
  const lines = ['', '', `Left out (${omitted.length} layer${omitted.length === 1 ? '' : 's'}; the outputs above do not need them):`];
  for (const o of omitted) {
    lines.push(`  ${o.layer} (${o.className}): ${o.reason}${o.config ? `; parameters ${JSON.stringify(o.config)}` : ''}`);
  }
  return lines.join('\n');
}
