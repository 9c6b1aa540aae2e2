/** LRP101: zero padding (same/explicit/causal padding, ZeroPadding layers) makes a border band behave differently. */
import type { CheckMeta, StaticCheck } from '../check.js';
import { label, makeFinding } from '../check.js';
import { isWindowed, paddingBand, resolvedPads } from '../geometry.js';
import type { Finding } from '../finding.js';

export const meta: CheckMeta = {
  code: 'LRP101',
  title: 'Border artifacts from zero padding',
  severity: 'warning',
  thresholds: {},
  remedy:
    "Use 'valid' padding, or pad by reflection or circularly (longitude is periodic on a global grid: wrap it in the data pipeline), or discount a border band of the receptive-field width when reading the map.",
};

export const check: StaticCheck = {
  meta,
  check({ graph, geometry }) {
    const out: Finding[] = [];
    for (const node of graph.nodes) {
      let why: string;
      if (node.kind === 'ZeroPadding') why = 'a ZeroPadding layer';
      else if (isWindowed(node)) {
        const mode = node.params.padding.mode;
        if (mode === 'valid') continue;
        // Max-pooling pads with -inf and Keras average pooling leaves pads out of the divisor: no zeros enter.
        if (node.kind === 'Pool' && (node.params.op === 'max' || !node.params.countIncludePad)) continue;
        why = `'${mode}' padding`;
      } else continue;
      const pads = resolvedPads(node, graph);
      if (!pads.some(([a, b]) => a > 0 || b > 0)) continue;
      const oneSided = pads.some(([a, b]) => a !== b);
      const band = paddingBand(node, graph, geometry);
      const bandMax = Math.max(0, ...band.flat());
      const padText = pads.map(([a, b]) => `${a}+${b}`).join(', ');
      out.push(
        makeFinding(meta, graph, {
          node,
          message:
            `${label(node)} pads with zeros (${why}, pads before+after per axis: ${padText})` +
            (oneSided ? '; one-sided: the extra cell goes to the end (TF rule), so the two borders differ' : '') +
            `; input cells within ${bandMax} of the edge reach units that read the padding (threshold: any zero padding)`,
          data: { pads: pads.flat(), band: band.flat(), oneSided },
        }),
      );
    }
    return out;
  },
};
