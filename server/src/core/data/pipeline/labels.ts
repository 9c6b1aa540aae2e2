/** Labels: given values, an integer variable, or an index thresholded into classes, matched to the samples by month when both have dates. */
import type { JsonPath } from '../../json/located-json.js';
import { atKey, KeyedError } from '../keyed.js';
import { planField, readPlan, withSource } from '../load.js';
import type { LabelSpec, ModelEntry } from '../project.js';
import { P, abs, selectionOf } from './entry.js';

export async function buildLabels(
  e: ModelEntry,
  spec: LabelSpec,
  n: number,
  times: string[] | undefined,
  dry: boolean,
): Promise<{ labels?: Int32Array; labelValues?: Float64Array }> {
  const lp = P(e, 'labels');
  if ('values' in spec) {
    if (spec.values.length !== n) throw new KeyedError('SHAPE_MISMATCH', `${spec.values.length} labels for ${n} samples`, [...lp, 'values']);
    checkClasses(e, spec.values, [...lp, 'values']);
    return { labels: Int32Array.from(spec.values) };
  }
  const file = abs(e, spec.file ?? e.data.file);
  return atKey([...lp, spec.file ? 'file' : 'variable'], () =>
    withSource(file, {}, async (s) => {
      const plan = await atKey([...lp, 'variable'], () => planField(s, { variable: spec.variable, select: selectionOf(spec.select) }));
      if (plan.shape.length !== 1) throw new KeyedError('SHAPE_MISMATCH', `labels ${spec.variable} must be one value per sample; it is [${plan.shape}]`, [...lp, 'variable'], { file });
      const ltimes = plan.coords.time?.dates;
      // Match by month when both sides have dates; otherwise by position.
      let pick: number[];
      if (times && ltimes) {
        const at = new Map<string, number>();
        ltimes.forEach((d, i) => at.set(d.slice(0, 7), i));
        pick = times.map((d) => {
          const i = at.get(d.slice(0, 7));
          if (i === undefined) throw new KeyedError('SELECTION_OUT_OF_RANGE', `no label for ${d.slice(0, 7)}: ${spec.variable} runs from ${ltimes[0]} to ${ltimes[ltimes.length - 1]}`, [...lp, 'variable'], { file });
          return i;
        });
      } else {
        if (plan.shape[0] !== n) throw new KeyedError('SHAPE_MISMATCH', `${plan.shape[0]} label values for ${n} samples (no dates on both sides to match them by)`, [...lp, 'variable'], { file });
        pick = Array.from({ length: n }, (_, i) => i);
      }
      if (dry) return {};
      const f = await readPlan(plan);
      const vals = Float64Array.from(pick, (i) => f.values[i]);
      const th = spec.thresholds ?? (spec.threshold !== undefined ? [spec.threshold] : undefined);
      if (th) {
        const labels = Int32Array.from(vals, (v) => th.filter((t) => v > t).length);
        vals.forEach((v, i) => {
          if (Number.isNaN(v)) throw new KeyedError('DATA_ERROR', `label value for sample ${times?.[i] ?? i} is missing`, [...lp, 'variable'], { file });
        });
        return { labels, labelValues: vals };
      }
      const ints = Array.from(vals);
      if (!ints.every((v) => Number.isInteger(v) && v >= 0)) throw new KeyedError('DATA_ERROR', `labels ${spec.variable} are not class indices (integers >= 0); give 'thresholds' to make classes from an index`, [...lp, 'variable'], { file });
      checkClasses(e, ints, [...lp, 'variable']);
      return { labels: Int32Array.from(ints), labelValues: vals };
    }),
  );
}

function checkClasses(e: ModelEntry, labels: number[], path: JsonPath): void {
  if (!e.classNames) return;
  const max = Math.max(...labels);
  if (max >= e.classNames.length) throw new KeyedError('CONFIG_ERROR', `label ${max} has no class name (${e.classNames.length} names given)`, path);
}
