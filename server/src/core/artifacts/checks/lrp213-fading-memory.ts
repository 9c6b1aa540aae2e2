/** LRP213: per-step relevance fades exponentially away from the step the memory starts at. */
import type { CheckMeta, MapCheck } from '../check.js';
import { fmt, makeFinding, pct } from '../check.js';
import { fitHalfLife, isSequenceMap, memoryFromEnd, rounded, stepProfile, steps, timeAxisName } from './sequence-common.js';

export const meta: CheckMeta = {
  code: 'LRP213',
  title: 'Fading memory',
  severity: 'warning',
  // stepFloor: a step is faded below 1 % of an even share (1/T of the total); fadedShare: chosen on the
  // recurrent benchmark's calibration seeds (docs/findings/LRP213.md).
  thresholds: { stepFloor: 0.01, fadedShare: 0.375 },
  remedy: 'The faded steps cannot matter to the output, whatever the data: an empty part of the map there is the memory, not a finding about the data. Feed shorter sequences or put the informative part near the end, or use a longer memory (LRP115) and retrain.',
};

export const check: MapCheck = {
  meta,
  check(ctx) {
    if (!isSequenceMap(ctx)) return [];
    const { T, F } = steps(ctx);
    const profile = stepProfile(ctx.relevance, ctx.n, T, F);
    const input = stepProfile(ctx.x, ctx.n, T, F);
    const floor = meta.thresholds.stepFloor / T;
    // A step is faded when it gets almost nothing although the input there is not empty.
    const faded: number[] = [];
    for (let t = 0; t < T; t++) if (profile[t] < floor && input[t] >= floor) faded.push(t);
    const fadedShare = faded.length / T;
    if (!(fadedShare >= meta.thresholds.fadedShare)) return [];
    const fromEnd = memoryFromEnd(ctx.graph);
    const fit = fitHalfLife(profile, fromEnd);
    const level = ctx.randomized?.[0];
    const ctlProfile = level ? stepProfile(level.relevance, ctx.n, T, F) : undefined;
    const ctlShare = ctlProfile ? ctlProfile.filter((v, t) => v < floor && input[t] >= floor).length / T : NaN;
    let label = '';
    let signalFaded = NaN;
    if (ctx.signal && ctx.signal.length === T * F) {
      const sigSteps = Array.from({ length: T }, (_, t) => t).filter((t) => ctx.signal!.subarray(t * F, (t + 1) * F).some((v) => v));
      if (sigSteps.length) {
        signalFaded = sigSteps.filter((t) => faded.includes(t)).length / sigSteps.length;
        label = `; ${pct(signalFaded)} of the steps of the known signal region fall in the faded part`;
      }
    }
    const where = fromEnd ? 'last' : 'first';
    return [
      makeFinding(meta, ctx.graph, {
        message: `${faded.length} of ${T} steps along ${timeAxisName(ctx)} (${pct(fadedShare)}; threshold ${pct(meta.thresholds.fadedShare)}) get under ${pct(meta.thresholds.stepFloor)} of an even share of |R| although the input there is not empty (steps ${faded[0]}..${faded[faded.length - 1]}); the per-step relevance decays from the ${where} step with a half-life of ${fmt(fit.halfLife)} steps (exponential fit, R^2 ${fmt(fit.r2)})${level ? `; with the read-out re-drawn, ${pct(ctlShare)} of the steps are faded` : ''}${label}`,
        // faded, fromEnd, amplitude: the panel shades the faded steps and redraws the fitted curve over the step bars.
        data: { fadedShare, fadedSteps: faded.length, steps: T, halfLife: fit.halfLife, fitR2: fit.r2, amplitude: fit.amplitude, fromEnd, faded, controlFadedShare: ctlShare, signalFaded, profile: rounded(profile) },
      }),
    ];
  },
};
