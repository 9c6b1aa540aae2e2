/** LRP103: max-pooling routes all relevance of a window to its winner. */
import type { CheckMeta, StaticCheck } from '../check.js';
import { label, makeFinding } from '../check.js';
import type { Finding } from '../finding.js';

export const meta: CheckMeta = {
  code: 'LRP103',
  title: 'Sparse, blocky relevance from max-pooling',
  severity: 'information',
  thresholds: {},
  remedy: 'Use average pooling, or route relevance through max-pooling like average pooling (the engine option), or average maps over many samples.',
};

export const check: StaticCheck = {
  meta,
  check({ graph }) {
    const out: Finding[] = [];
    for (const node of graph.nodes) {
      if ((node.kind === 'Pool' || node.kind === 'GlobalPool') && node.params.op === 'max') {
        const size = node.kind === 'Pool' ? node.params.poolSize.join('x') : 'global';
        out.push(
          makeFinding(meta, graph, {
            node,
            message: `${label(node)} is a ${size} max-pooling: relevance of each window goes to its one winning cell (winner-take-all); the earlier layers spread it again, so input maps are blocky rather than exactly sparse`,
            data: { window: size },
          }),
        );
      }
    }
    return out;
  },
};
