/** Step 1, read: each variable of `data` with its selection, planned from headers, then (unless a dry run) read. */
import { LIMITS } from '../../errors.js';
import { DATA_BUDGET } from '../budget.js';
import type { Field } from '../field.js';
import { atKey, KeyedError } from '../keyed.js';
import { coordinateVars, dataVariables, openSource, planField, readPlan, type FieldPlan } from '../load.js';
import type { ModelEntry } from '../project.js';
import type { Selection } from '../select.js';
import { closest } from '../similar.js';
import { product, type DataSource } from '../source.js';
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
      checkVariable(source, names[i], e.data.variables ? 'variables' : 'variable', varPath);
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
          // The readers' size refusal speaks of the command line; in the project file the remedy is "select".
          if ((err as { code?: string }).code === 'FILE_TOO_LARGE') {
            const msg = (err as Error).message.replace(/select a part with --select \(e\.g\. ([^=\s]+)=(\S+)\)/, (_m, d: string, r: string) => `select a part with "select": {"${d}": "${r}"}`);
            throw new KeyedError('FILE_TOO_LARGE', msg, P(e, 'data', 'select'), { file });
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

/**
 * A variable the file does not have, said in the project file's words: what to set "variable" to, with
 * suggestions from the file's data variables only (coordinate variables such as lat are no data to explain).
 */
function checkVariable(source: DataSource, name: string | undefined, key: 'variable' | 'variables', path: (string | number)[]): void {
  const data = dataVariables(source).map((v) => v.name);
  const label = source.path.split(/[\\/]/).filter(Boolean).pop() ?? source.path;
  const oneOf = data.length === 1 ? `set "${key}" to "${data[0]}", the only data variable of ${label}` : `set "${key}" to one of: ${data.slice(0, 12).join(', ')}${data.length > 12 ? ', ...' : ''}`;
  if (name === undefined) {
    const gridded = dataVariables(source).filter((v) => v.dims.length > 1);
    if (gridded.length === 1 || data.length === 1) return;
    throw new KeyedError('UNKNOWN_VARIABLE', `${label} has ${data.length} data variables: ${oneOf}`, path, { file: source.path });
  }
  if (source.variables.some((v) => v.name === name)) return;
  const near = closest(name, data);
  const hint = near && data.length > 1 ? `Did you mean '${near}'? Data variables: ${data.slice(0, 12).join(', ')}${data.length > 12 ? ', ...' : ''}` : oneOf;
  throw new KeyedError('UNKNOWN_VARIABLE', `no variable '${name}' in ${label}: ${hint}`, path, { file: source.path });
}
