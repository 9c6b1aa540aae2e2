/**
 * The composite flags every command that computes relevance takes (explain, check, report, bench), read
 * by this one parser into the request layer of the session's precedence rule (core/session/composite-choice.ts):
 *   --composite NAME --epsilon E --gamma G --low L --high H --rules FILE|SPEC
 *   --target predicted|label|INDEX|A-B|regression|mean|sum|pixel:R,C[,CH]|region:R0:R1,C0:C1[,CH][,mean|sum] --init onehot|output
 *   --method lrp|gradient|gradient-x-input|integrated-gradients|smoothgrad (the attributor; default lrp)
 * Values are checked here, before any file is read; a command that cannot honour one refuses it.
 */
import { LensError } from '../core/errors.js';
import { parseTarget } from '../core/lrp/targets.js';
import { BASELINE_NAMES, isBaselineName } from '../core/names.js';
import type { ChoiceLayer } from '../core/session/composite-choice.js';
import { checkComposite, flagNumber, flagString, type ParsedArgs } from './args.js';
import { readRuleMap } from './rule-map.js';

export const COMPOSITE_FLAG_NAMES = ['composite', 'epsilon', 'gamma', 'low', 'high', 'rules', 'target', 'init', 'method'];

export const COMPOSITE_FLAGS_USAGE = '[--composite NAME] [--epsilon E] [--gamma G] [--low L --high H] [--rules FILE|SPEC] [--target predicted|label|INDEX|A-B|regression|mean|pixel:R,C[,CH]|region:R0:R1,C0:C1[,CH][,mean|sum]] [--init onehot|output] [--method lrp|BASELINE]';

/** A bound: a number or comma-separated per-channel values. */
function bound(text: string | undefined, name: string): number | number[] | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.some((v) => !Number.isFinite(v))) throw new LensError('USAGE', `--${name} must be a number or comma-separated numbers, got '${text}'`);
  return parts.length === 1 ? parts[0] : parts;
}

export async function compositeFlags(args: ParsedArgs): Promise<ChoiceLayer> {
  const l: ChoiceLayer = {};
  const composite = flagString(args, 'composite');
  if (composite !== undefined) {
    checkComposite(composite, '--composite');
    l.composite = composite;
    l.origin = '--composite';
  }
  l.epsilon = flagNumber(args, 'epsilon', 0);
  l.gamma = flagNumber(args, 'gamma', 0);
  l.low = bound(flagString(args, 'low'), 'low');
  l.high = bound(flagString(args, 'high'), 'high');
  const target = flagString(args, 'target');
  if (target !== undefined && target !== 'label') parseTarget(target);
  l.target = target;
  const init = flagString(args, 'init');
  if (init !== undefined && init !== 'onehot' && init !== 'output') throw new LensError('USAGE', `--init must be onehot or output, got '${init}'`);
  l.init = init;
  const method = flagString(args, 'method');
  if (method !== undefined && method !== 'lrp' && !isBaselineName(method)) throw new LensError('USAGE', `--method must be lrp or one of ${BASELINE_NAMES.join(', ')}, got '${method}'`);
  l.method = method;
  const rules = await readRuleMap(flagString(args, 'rules'));
  if (rules.length) l.rules = rules;
  for (const k of Object.keys(l) as (keyof ChoiceLayer)[]) if (l[k] === undefined) delete l[k];
  return l;
}
