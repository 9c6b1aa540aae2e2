/** LRP102: a stride s > 1 whose window k is not a multiple of s (or k < s) covers cells unevenly: a grid pattern. */
import type { CheckMeta, Report, StaticCheck } from '../check.js';
import { label, makeFinding } from '../check.js';
import { isWindowed } from '../geometry.js';
import type { Finding } from '../finding.js';
import type { LayerNodeOf } from '../../model/graph.js';

export const meta: CheckMeta = {
  code: 'LRP102',
  title: 'Grid (checkerboard) artifacts from strides',
  severity: 'warning',
  thresholds: {},
  remedy: 'Make the kernel size a multiple of the stride (k = 2 or 4 for stride 2), or use stride 1 followed by pooling.',
};

/**
 * The transposed form of the same pattern (Odena et al. 2016, "Deconvolution and checkerboard artifacts"):
 * output cells receive ceil(k/s) or floor(k/s) input cells by their stride phase, forward and backward.
 */
function transposeFinding(node: LayerNodeOf<'ConvTranspose'>): Report | null {
  const p = node.params;
  const bad = p.strides
    .map((si, i) => ({ s: si, k: (p.kernelSize[i] - 1) * p.dilation[i] + 1 }))
    .filter((a) => a.s > 1 && (a.k < a.s || a.k % a.s !== 0));
  if (bad.length === 0) return null;
  const gap = bad.some((a) => a.k < a.s);
  return {
    node,
    message:
      `${label(node)} is a transposed convolution with kernel ${p.kernelSize.join('x')} and stride ${p.strides.join('x')}: ` +
      (gap
        ? `the kernel is smaller than the stride, so some output cells receive no input (every ${bad[0].s}th cell only)`
        : `kernel ${bad[0].k} is not a multiple of stride ${bad[0].s}, so output cells receive ${Math.ceil(bad[0].k / bad[0].s)} or ${Math.floor(bad[0].k / bad[0].s)} inputs by their stride phase (a checkerboard)`) +
      ' (threshold: k mod s != 0 or k < s)',
    data: { kernel: p.kernelSize, strides: p.strides, skipsCells: gap, transposed: true },
  };
}

export const check: StaticCheck = {
  meta,
  check({ graph }) {
    const out: Finding[] = [];
    for (const node of graph.nodes) {
      if (node.kind === 'ConvTranspose') {
        const t = transposeFinding(node);
        if (t) out.push(makeFinding(meta, graph, t));
        continue;
      }
      if (!isWindowed(node)) continue;
      const k = node.kind === 'Pool' ? node.params.poolSize : node.params.kernelSize;
      const d = node.kind === 'Pool' ? k.map(() => 1) : node.params.dilation;
      const s = node.params.strides;
      const bad = s
        .map((si, i) => ({ i, s: si, k: (k[i] - 1) * d[i] + 1 }))
        .filter((a) => a.s > 1 && (a.k < a.s || a.k % a.s !== 0));
      if (bad.length === 0) continue;
      const gap = bad.some((a) => a.k < a.s);
      out.push(
        makeFinding(meta, graph, {
          node,
          message:
            `${label(node)} has kernel ${k.join('x')} with stride ${s.join('x')}: ` +
            (gap
              ? `the window is smaller than the stride, so some cells reach no unit through this path (every ${bad[0].s}th cell only)`
              : `kernel ${bad[0].k} is not a multiple of stride ${bad[0].s}, so cells are covered ${Math.ceil(bad[0].k / bad[0].s)} or ${Math.floor(bad[0].k / bad[0].s)} times`) +
            ' (threshold: k mod s != 0 or k < s)',
          data: { kernel: k, strides: s, skipsCells: gap },
        }),
      );
    }
    return out;
  },
};
