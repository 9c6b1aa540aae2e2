/**
 * Keras SimpleRNN, LSTM, GRU and Bidirectional around one of them -> one Recurrent node, weights taken
 * in stored order (a Bidirectional layer stores two `kernel`s).
 */
import { directionKeys, gateCount } from '../kinds/recurrent.js';
import type { RecurrentParams } from '../graph.js';
import { LINEAR } from '../graph.js';
import { ownTable } from '../../own-table.js';
import { type Ctx, type LayerEntry, type Mapped, type Obj, type WeightSlot, bool, checkDim, isObj, node, parseActivation } from './keras-layer-util.js';

export const RECURRENT_CELLS: Record<string, 'simple' | 'lstm' | 'gru'> = ownTable({ SimpleRNN: 'simple', LSTM: 'lstm', GRU: 'gru' });

/** The recurrent settings of a SimpleRNN / LSTM / GRU config (also the inner layer of a Bidirectional). */
function recurrentParams(ctx: Ctx, n: string, cls: string, c: Obj): RecurrentParams {
  const cell = RECURRENT_CELLS[cls];
  if (!cell) return ctx.err('UNSUPPORTED_LAYER', `layer ${n}: Bidirectional around ${cls} is not supported (SimpleRNN, LSTM or GRU only)`, n);
  if (bool(c.time_major, false)) ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: time_major inputs are not supported`, n, 'rebuild the layer with time_major=False (inputs [batch, time, features]) and re-save');
  const units = checkDim(ctx, n, 'units', c.units);
  // Keras 2 and 3 default the gates to sigmoid; tfjs-layers to hard sigmoid.
  const recurrentDefault = ctx.tfjs ? 'hard_sigmoid' : 'sigmoid';
  return {
    cell,
    units,
    direction: bool(c.go_backwards, false) ? 'backward' : 'forward',
    merge: null,
    returnSequences: bool(c.return_sequences, false),
    processingOrder: true,
    cellActivation: parseActivation(ctx, n, c.activation === undefined ? 'tanh' : c.activation),
    recurrentActivation: cell === 'simple' ? LINEAR : parseActivation(ctx, n, c.recurrent_activation === undefined ? recurrentDefault : c.recurrent_activation),
    // Absent in old files: read off the bias shape once it is known (see check below).
    resetAfter: cell === 'gru' ? bool(c.reset_after, true) : false,
    useBias: bool(c.use_bias, true),
  };
}

/** SimpleRNN, LSTM, GRU, and Bidirectional around one of them -> one Recurrent node. Weights by stored order. */
export function mapRecurrent(ctx: Ctx, e: LayerEntry, range: [number, number] | undefined): Mapped {
  const n = e.name;
  let p: RecurrentParams;
  if (e.className === 'Bidirectional') {
    const inner = e.config.layer;
    if (!isObj(inner) || typeof inner.class_name !== 'string' || !isObj(inner.config)) return ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: Bidirectional has no inner layer config`, n);
    p = recurrentParams(ctx, n, inner.class_name, inner.config);
    if (p.direction !== 'forward') ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: Bidirectional around a go_backwards layer is not supported`, n);
    const mode = e.config.merge_mode === undefined ? 'concat' : e.config.merge_mode;
    if (mode === null) {
      ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: Bidirectional with merge_mode None (two separate outputs) is not supported`, n, "use merge_mode 'concat', 'sum', 'mul' or 'ave' and re-save");
    }
    if (mode !== 'concat' && mode !== 'sum' && mode !== 'mul' && mode !== 'ave') return ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: unknown merge_mode ${JSON.stringify(mode)}`, n);
    const back = e.config.backward_layer;
    if (isObj(back) && isObj(back.config)) {
      // An explicit backward layer must be the forward one run backwards (same cell and settings).
      const b = recurrentParams(ctx, n, String(back.class_name), back.config);
      if (b.direction !== 'backward' || JSON.stringify({ ...b, direction: 'forward' }) !== JSON.stringify(p)) {
        ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: the backward layer of this Bidirectional differs from the forward one (other than go_backwards); not supported`, n);
      }
    }
    p = { ...p, direction: 'bidirectional', merge: mode };
  } else {
    p = recurrentParams(ctx, n, e.className, e.config);
  }
  const cfg = e.className === 'Bidirectional' && isObj(e.config.layer) && isObj(e.config.layer.config) ? e.config.layer.config : e.config;
  if (bool(cfg.return_state, false) && e.className === 'Bidirectional') {
    ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: Bidirectional with return_state is not supported`, n, 'build the layer with return_state=False and re-save');
  }
  const dirs = p.direction === 'bidirectional' ? [false, true] : [false];
  const slots: WeightSlot[] = [];
  for (const back of dirs) {
    const pre = back ? 'back' : '';
    const keys = directionKeys(back);
    slots.push({ node: n, key: keys.kernel, aliases: [`${pre}kernel`] });
    slots.push({ node: n, key: keys.recurrentKernel, aliases: [`${pre}recurrent_kernel`] });
    if (p.useBias) slots.push({ node: n, key: keys.bias, aliases: [`${pre}bias`] });
  }
  const params = p;
  const g = gateCount(params.cell) * params.units;
  return {
    nodes: [node(e, 'Recurrent', params, { range })],
    slots,
    ordered: true,
    check: (s) => {
      for (const back of dirs) {
        const pre = back ? 'back' : '';
        const keys = directionKeys(back);
        const k = s[keys.kernel];
        const r = s[keys.recurrentKernel];
        if (k.length !== 2 || k[1] !== g) return `${pre}kernel shape [${k}] does not match ${params.units} units of a ${params.cell} cell`;
        if (r.length !== 2 || r[0] !== params.units || r[1] !== g) return `${pre}recurrent kernel shape [${r}] does not match ${params.units} units of a ${params.cell} cell`;
        if (params.useBias) {
          const b = s[keys.bias];
          const two = b.length === 2 && b[0] === 2 && b[1] === g;
          if (params.cell === 'gru' && cfg.reset_after === undefined && (two || (b.length === 1 && b[0] === g))) params.resetAfter = two;
          if (params.cell === 'gru' && params.resetAfter ? !two : b.length !== 1 || b[0] !== g) return `${pre}bias shape [${b}] does not match ${params.units} units of a ${params.cell} cell`;
        }
      }
      return undefined;
    },
  };
}
