/** LRP205: negative relevance where the composite should give none (z+ on every layer the user reads as positive). */
import type { CheckMeta, MapCheck } from '../check.js';
import { makeFinding, pct } from '../check.js';
import { rulesFor } from '../composite-rules.js';
import { negativeShare } from '../map-stats.js';
import { isLinear } from '../geometry.js';
import { per } from './map-common.js';

export const meta: CheckMeta = {
  code: 'LRP205',
  title: 'Negative relevance under a z+ composite',
  severity: 'warning',
  thresholds: { negativeShare: 0.01 },
  remedy: 'The negative part enters through layers that are not z+ (usually the dense layers under epsilon): read the map as signed, or use z+ on every layer if a positive map is what you need.',
};

export const check: MapCheck = {
  meta,
  check(ctx) {
    const rules = ctx.rules ? new Map(Object.entries(ctx.rules)) : rulesFor(ctx.graph, ctx.composite);
    if (!rules) return [];
    const convs = ctx.graph.nodes.filter((n) => isLinear(n) && n.kind !== 'Dense');
    const linear = ctx.graph.nodes.filter(isLinear);
    // The composite promises positive maps when z+ covers the convolutions (or every layer of an MLP).
    const zplusOn = (names: string[]): boolean => names.length > 0 && names.every((n) => rules.get(n) === 'zplus');
    if (!zplusOn((convs.length ? convs : linear).map((n) => n.name))) return [];
    const share = negativeShare(ctx.relevance.subarray(0, ctx.n * per(ctx)));
    if (!(share > meta.thresholds.negativeShare)) return [];
    const notZ = linear.filter((n) => rules.get(n.name) !== 'zplus').map((n) => `${n.name} (${rules.get(n.name)})`);
    return [
      makeFinding(meta, ctx.graph, {
        message: `${pct(share)} of |R| is negative under '${ctx.composite}' (threshold ${pct(meta.thresholds.negativeShare)})` + (notZ.length ? `; layers not under z+: ${notZ.join(', ')}` : '; every layer is z+, so negative relevance means negative inputs or an engine fault'),
        data: { negativeShare: share, notZplus: notZ.join(',') },
      }),
    ];
  },
};
