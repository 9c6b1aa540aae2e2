/**
 * `lrp-lens compile MODEL --composite NAME [--epsilon E] [--gamma G] [--low L --high H] [--rules FILE|SPEC]
 *   [--init onehot|output] [--max-pool winner|avg] --out relevance.onnx [--json]`
 *
 * Writes the model's LRP under the composite as one ONNX graph (core/lrp-onnx/lower.ts) that runs wherever
 * ONNX Runtime runs. Inputs `x` (the model's input in its file's layout) and `seed` ([N, K]: +1 at the
 * explained class, a zero row for the arg-max); outputs `relevance`, `output`, `layer_sums` (docs/compile.md).
 * A layer or rule that does not lower is an LRP_UNSUPPORTED error naming it.
 */
import { writeFileSync } from 'node:fs';
import { LensError } from '../core/errors.js';
import { loadModel } from '../core/model/load.js';
import { GRAPH_IO, lowerToOnnx, type LoweringOptions } from '../core/lrp-onnx/lower.js';
import { checkComposite, flagNumber, flagString, parseArgs, requireFlag } from './args.js';
import { readRuleMap } from './rule-map.js';

const USAGE =
  'usage: lrp-lens compile MODEL --composite NAME [--epsilon E] [--gamma G] [--low L --high H] [--rules FILE|SPEC] [--init onehot|output] [--max-pool winner|avg] --out relevance.onnx [--json]';
const FLAGS = ['composite', 'epsilon', 'gamma', 'low', 'high', 'rules', 'init', 'max-pool', 'out', 'json'];

function bound(text: string | undefined, name: string): number | number[] | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.some((v) => !Number.isFinite(v))) throw new LensError('USAGE', `--${name} must be a number or comma-separated numbers, got '${text}'`);
  return parts.length === 1 ? parts[0] : parts;
}

/** The lowering options from the command line (checked before any file is read). */
export async function compileOptions(argv: string[]): Promise<{ model: string; out: string; json: boolean; options: LoweringOptions }> {
  const args = parseArgs(argv, ['json']);
  if (args.positional.length !== 1) throw new LensError('USAGE', USAGE);
  for (const k of args.flags.keys()) if (!FLAGS.includes(k)) throw new LensError('USAGE', `unknown option --${k}\n${USAGE}`);
  const composite = requireFlag(args, 'composite');
  checkComposite(composite, '--composite');
  const init = flagString(args, 'init');
  if (init !== undefined && init !== 'onehot' && init !== 'output') throw new LensError('USAGE', `--init must be onehot or output, got '${init}'`);
  const maxPool = flagString(args, 'max-pool');
  if (maxPool !== undefined && maxPool !== 'winner' && maxPool !== 'avg') throw new LensError('USAGE', `--max-pool must be winner or avg, got '${maxPool}'`);
  const options: LoweringOptions = {
    composite,
    epsilon: flagNumber(args, 'epsilon', 0),
    gamma: flagNumber(args, 'gamma', 0),
    low: bound(flagString(args, 'low'), 'low'),
    high: bound(flagString(args, 'high'), 'high'),
    init,
    maxPool,
    ruleMap: await readRuleMap(flagString(args, 'rules')),
  };
  for (const k of Object.keys(options) as (keyof LoweringOptions)[]) if (options[k] === undefined) delete options[k];
  return { model: args.positional[0], out: requireFlag(args, 'out'), json: args.flags.get('json') === true, options };
}

export async function run(argv: string[]): Promise<number> {
  process.stdout.write((await compile(argv)).text + '\n');
  return 0;
}

/** Lower the model, write the graph and describe it (as text, or JSON with --json). */
export async function compile(argv: string[]): Promise<{ text: string }> {
  const { model, out, json, options } = await compileOptions(argv);
  const graph = await loadModel(model);
  const lowered = lowerToOnnx(graph, options);
  writeFileSync(out, lowered.bytes);
  const summary = {
    model: graph.file,
    out,
    bytes: lowered.bytes.length,
    onnxNodes: lowered.nodeCount,
    composite: lowered.composite.name,
    init: lowered.init,
    inputs: { [GRAPH_IO.x]: { shape: ['N', ...lowered.inputShape.slice(1)], layout: lowered.layout }, [GRAPH_IO.seed]: { shape: ['N', lowered.outputWidth] } },
    outputs: {
      [GRAPH_IO.relevance]: { shape: ['N', ...lowered.inputShape.slice(1)], layout: lowered.layout },
      [GRAPH_IO.output]: { shape: ['N', lowered.outputWidth] },
      [GRAPH_IO.layerSums]: { shape: ['N', lowered.columns.length], columns: lowered.columns.map((c) => c.name) },
    },
    rules: lowered.columns.filter((c) => c.rule !== '-').map((c) => ({ layer: c.name, kind: c.kind, rule: c.rule })),
    strippedOutput: lowered.canonical.strippedOutput,
  };
  if (json) return { text: JSON.stringify(summary, null, 2) };
  const lines = [
    `wrote ${out}: ${summary.bytes} bytes, ${summary.onnxNodes} ONNX nodes (opset 13), composite ${summary.composite}, init ${summary.init}`,
    `  inputs:  x [N, ${lowered.inputShape.slice(1).join(', ')}] (${lowered.layout}), seed [N, ${lowered.outputWidth}] (+1 at the explained class; a zero row explains the arg-max)`,
    `  outputs: relevance (as x), output [N, ${lowered.outputWidth}], layer_sums [N, ${lowered.columns.length}] (output to input, last = input)`,
    ...summary.rules.map((r) => `  ${r.layer.padEnd(24)} ${r.kind.padEnd(12)} ${r.rule}`),
  ];
  if (summary.strippedOutput) lines.push(`  explains ${summary.strippedOutput.explains}, before the stripped ${summary.strippedOutput.activation}`);
  return { text: lines.join('\n') };
}
