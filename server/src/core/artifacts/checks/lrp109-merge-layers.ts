/** LRP109: residual and merge layers, and how relevance is split at them. */
import type { CheckMeta, StaticCheck } from '../check.js';
import { label, makeFinding } from '../check.js';
import type { Finding } from '../finding.js';

export const meta: CheckMeta = {
  code: 'LRP109',
  title: 'Residual and merge layers',
  severity: 'information',
  thresholds: {},
  remedy: 'Nothing to change for Add/Average/Concatenate; know that the identity branch of a residual block carries the input relevance past the block. For Multiply/Maximum/Minimum prefer an architecture without them, or read their maps as approximate.',
};

const HOW: Record<string, string> = {
  Add: 'relevance is split between the branches in proportion to their contributions (never duplicated)',
  Average: 'relevance is split between the branches in proportion to their contributions (never duplicated)',
  Subtract: 'relevance is split in proportion to the signed contributions; the subtracted branch receives relevance of the opposite sign',
  Concatenate: 'relevance is routed back to the branch that made each channel',
  Multiply: 'a product of two signals: no rule splits it soundly; the engine splits relevance equally between the factors',
  Maximum: 'the larger branch takes all relevance of each cell (winner-take-all)',
  Minimum: 'the smaller branch takes all relevance of each cell (winner-take-all)',
};

export const check: StaticCheck = {
  meta,
  check({ graph }) {
    const out: Finding[] = [];
    for (const node of graph.nodes) {
      const how = HOW[node.kind];
      if (!how || node.inbound.length < 2) continue;
      const warn = node.kind === 'Multiply' || node.kind === 'Maximum' || node.kind === 'Minimum';
      out.push(
        makeFinding(meta, graph, {
          node,
          severity: warn ? 'warning' : 'information',
          message: `${label(node)} merges ${node.inbound.length} branches (${node.inbound.join(', ')}): ${how}`,
          data: { branches: node.inbound.length, kind: node.kind },
        }),
      );
    }
    return out;
  },
};
