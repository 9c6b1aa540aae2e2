/** LRP114: a recurrent model reads a (time, features) input with several features: a field fed line by line. */
import type { CheckMeta, StaticCheck } from '../check.js';
import { label, makeFinding } from '../check.js';
import type { Finding } from '../finding.js';
import { recurrentNodes } from './sequence-common.js';

export const meta: CheckMeta = {
  code: 'LRP114',
  title: 'Recurrent model fed a field line by line',
  // Information: the architecture alone cannot tell a field fed column by column from a multivariate
  // time series; LRP212 judges the stripes on data against a control.
  severity: 'information',
  thresholds: { features: 2 },
  remedy: 'Read relevance per step with care: the recurrence weighs whole steps (lines of the field), so stripes along the feeding axis can come from the memory, not the data. Compare with LRP212 on data; where the order is arbitrary (a longitude), feed the field in the other direction or with a bidirectional layer and compare the maps.',
};

export const check: StaticCheck = {
  meta,
  check({ graph }) {
    const out: Finding[] = [];
    const first = recurrentNodes(graph)[0];
    if (!first) return out;
    for (const input of graph.inputs) {
      const shape = input.fileShape;
      // [batch, time, features]: a sequence of several features per step.
      if (shape.length !== 3) continue;
      const [, T, F] = shape;
      if (!(typeof F === 'number' && F >= meta.thresholds.features)) continue;
      const steps = typeof T === 'number' ? `${T}` : 'an open number of';
      out.push(
        makeFinding(meta, graph, {
          node: first,
          message: `${label(first)} reads input '${input.fileName}' as ${steps} steps of ${F} features (time is axis 1 of [batch, time, features]; threshold: ${meta.thresholds.features} or more features per step): if this is a spatial field fed line by line (e.g. longitude as time, latitude as features), relevance tends to form stripes along the time axis, one per step, because the recurrence weighs whole steps`,
          data: { timeAxis: 1, steps: typeof T === 'number' ? T : -1, features: F },
        }),
      );
    }
    return out;
  },
};
