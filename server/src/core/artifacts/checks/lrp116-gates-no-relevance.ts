/** LRP116: gates get no relevance under the signal-take-all rules: what a recurrent map cannot show. */
import type { CheckMeta, StaticCheck } from '../check.js';
import { label, makeFinding } from '../check.js';
import { canonicalize } from '../../model/canonicalize.js';
import { buildComposite } from '../../lrp/composites.js';
import { isCompositeName } from '../../names.js';
import type { Finding } from '../finding.js';
import { recurrentNodes } from './sequence-common.js';

/** Recurrent rule variants that give a product's relevance to its signal and none to its gate (Arras et al.). */
const SIGNAL_TAKE_ALL = new Set(['epsilon', 'conservative', 'esn']);

export const meta: CheckMeta = {
  code: 'LRP116',
  title: 'Gates receive no relevance',
  severity: 'information',
  thresholds: {},
  remedy: 'Nothing to fix: under signal-take-all the map shows what flowed through the cell state, not what opened or closed the gates. Inputs that act only through a gate (e.g. a trigger that makes the cell forget) get no relevance; to see them, compare with gradient x input, or a rule that splits products (where available).',
};

export const check: StaticCheck = {
  meta,
  check({ graph, opts }) {
    const gated = recurrentNodes(graph).filter((n) => n.params.cell !== 'simple');
    if (gated.length === 0) return [];
    if (opts.composite && !isCompositeName(opts.composite)) return []; // a gradient baseline: no rules
    // Every composite gives recurrent layers the signal-take-all rule unless a rule map says otherwise, so
    // without a named composite the default stands in.
    const { rules } = buildComposite(canonicalize(graph).graph, opts.composite ?? 'epsilon', {}, opts.ruleMap ?? []);
    const out: Finding[] = [];
    for (const node of gated) {
      const rule = rules.get(node.name);
      if (!rule || rule.type !== 'recurrent' || !SIGNAL_TAKE_ALL.has(String(rule.variant))) continue;
      const gates = node.params.cell === 'lstm' ? 'input, forget and output gates' : 'update and reset gates';
      out.push(
        makeFinding(meta, graph, {
          node,
          message: `${label(node)} is explained with ${rule.name} (signal-take-all, Arras et al.): its ${gates} receive no relevance (threshold: none), so the map cannot show inputs that act only by opening or closing a gate`,
          data: { rule: rule.name, cell: node.params.cell },
        }),
      );
    }
    return out;
  },
};
