/** Step 1, read: each variable of `data` with its selection, planned from headers, then (unless a dry run) read. */
import { LIMITS } from '../../errors.js';
import { DATA_BUDGET } from '../budget.js';
import type { Field } from '../field.js';
import { atKey, KeyedError } from '../keyed.js';
import { coordinateVars, openSource, planField, readPlan, type FieldPlan } from '../load.js';
import type { ModelEntry } from '../project.js';
import type { Selection } from '../select.js';
import { product } from '../source.js';
import { P, abs, selectionOf } from './entry.js';

/** The variables of an entry: their plans (dims, shape, coords), values (none in a dry run) and names. */
export interface Loaded {
  plans: FieldPlan[];
  fields: Field[];
  names: string[];
}

/** Everything but the values: the plan of each variable; then (unless dryRun) the values. */
export async function loadVariables(e: ModelEntry, dryRun: boolean): Promise<Loaded> {
  const names = e.data.variables ?? [e.data.variable as string];
  const file = abs(e, e.data.file);
  if (names.length > DATA_BUDGET.variables) {
    throw new KeyedError('BUDGET_EXCEEDED', `${names.length} variables to stack, over the variables budget of ${DATA_BUDGET.variables}`, P(e, 'data', 'variables'), { file });
  }
  const select = await atKey(P(e, 'data', 'select'), () => selectionOf(e.data.select));
  const source = await atKey(P(e, 'data', 'file'), () => openSource(file, { format: e.data.format, image: e.data.image }));
  try {
    const plans: FieldPlan[] = [];
    // Stacked variables: a selection key applies to the variables that have that dim (axis names to all),
    // so `level` can pick a level of a 4-D variable stacked with 3-D ones. A key no variable has is an error.
    const byName = new Map(source.variables.map((v) => [v.name, v]));
    const infos = names.map((n) => byName.get(n));
    const selectFor = (i: number): Selection => {
      if (names.length === 1 || !infos[i]) return select;
      const own: Selection = {};
      const axes = coordinateVars(source, infos[i]!).map((c) => c.axis);
      for (const [k, v] of Object.entries(select)) if (infos[i]!.dims.includes(k) || axes.includes(k as never)) own[k] = v;
      return own;
    };
    if (names.length > 1) {
      for (const k of Object.keys(select)) {
        if (infos.every((v) => v && !v.dims.includes(k) && !coordinateVars(source, v).some((c) => c.axis === k))) {
          throw new KeyedError('SELECTION_OUT_OF_RANGE', `none of ${names.join(', ')} has a dimension '${k}'`, P(e, 'data', 'select', k), { file });
        }
      }
    }
    for (let i = 0; i < names.length; i++) {
      const varPath = e.data.variables ? P(e, 'data', 'variables', i) : P(e, 'data', e.data.variable ? 'variable' : 'file');
      const plan = await atKey(varPath, async () => {
        try {
          return await planField(source, { variable: names[i], select: selectFor(i) });
        } catch (err) {
          // Selection problems belong to the select key, not the variable.
          if ((err as { code?: string }).code === 'SELECTION_OUT_OF_RANGE') {
            // Find the one dim at fault (headers only) so the diagnostic sits on its key.
            let key: string | undefined;
            const own = selectFor(i);
            for (const k of Object.keys(own)) {
              const ok = await planField(source, { variable: names[i], select: { [k]: own[k] } }).then(() => true, () => false);
              if (!ok) {
                key = k;
                break;
              }
            }
            throw new KeyedError('SELECTION_OUT_OF_RANGE', (err as Error).message, P(e, 'data', 'select', ...(key ? [key] : [])), { file });
          }
          throw err;
        }
      });
      if (i > 0 && (plan.dims.join() !== plans[0].dims.join() || plan.shape.join() !== plans[0].shape.join())) {
        throw new KeyedError('SHAPE_MISMATCH', `variable ${plan.info.name} is ${plan.dims.join('x')}=[${plan.shape}], but ${plans[0].info.name} is [${plans[0].shape}]; stacked variables need the same dims and shape`, varPath, { file });
      }
      plans.push(plan);
    }
    names.splice(0, names.length, ...plans.map((p) => p.info.name));
    // Each variable passed planField's size check; stacked, they must fit together too (checked before reading).
    const stackedValues = product(plans[0].shape) * plans.length;
    if (stackedValues > LIMITS.maxTensorElements) {
      throw new KeyedError('BUDGET_EXCEEDED', `${plans.length} stacked variables of ${product(plans[0].shape)} values: ${stackedValues}, over the maxTensorElements budget of ${LIMITS.maxTensorElements}`, P(e, 'data', e.data.variables ? 'variables' : 'file'), { file });
    }
    const fields = dryRun ? [] : await Promise.all(plans.map((p) => atKey(P(e, 'data', 'file'), () => readPlan(p))));
    return { plans, fields, names };
  } finally {
    await source.close();
  }
}
