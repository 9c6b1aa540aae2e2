/**
 * Multi-node patterns that stand for one activation: exporters before opset 20 write GELU as
 * x * 0.5 * (1 + erf(x / sqrt(2))) in five nodes. Found before conversion; the first node of a match
 * becomes one Activation(gelu) and the rest are skipped.
 */
import type { NodeProto, ConstValue } from './onnx-proto.js';
import { constNumbers } from './onnx-proto.js';

export interface Fused {
  /** The pattern's input value. */
  input: string;
  /** The pattern's output value. */
  output: string;
  /** Display names of every node in the match, in order. */
  nodes: NodeProto[];
}

export interface FoldPlan {
  /** First node of each match -> the match. */
  starts: Map<NodeProto, Fused>;
  /** Nodes inside a match other than the first. */
  skip: Set<NodeProto>;
}

function scalar(c: ConstValue | undefined): number | undefined {
  if (!c) return undefined;
  const v = constNumbers(c);
  return v && v.length === 1 ? v[0] : undefined;
}

const near = (v: number | undefined, want: number): boolean => v !== undefined && Math.abs(v - want) <= 1e-4 * Math.abs(want);

export function findGelu(nodes: NodeProto[], uses: Map<string, number>, constOf: (name: string) => ConstValue | undefined, outputs: Set<string>): FoldPlan {
  const plan: FoldPlan = { starts: new Map(), skip: new Set() };
  const readers = new Map<string, NodeProto[]>();
  const producer = new Map<string, NodeProto>();
  for (const n of nodes) {
    for (const i of n.input ?? []) if (i) readers.set(i, [...(readers.get(i) ?? []), n]);
    for (const o of n.output ?? []) if (o) producer.set(o, n);
  }
  /** The single live reader of `v`, when `v` is not also a graph output. */
  const only = (v: string): NodeProto | undefined => (uses.get(v) === 1 && !outputs.has(v) ? readers.get(v)?.[0] : undefined);
  /** For a binary node with one constant input: [other input, constant value]. */
  const split = (n: NodeProto): [string, number | undefined, boolean] | undefined => {
    const [a, b] = n.input ?? [];
    if (!a || !b || (n.input ?? []).length !== 2) return undefined;
    const cb = scalar(constOf(b));
    if (cb !== undefined) return [a, cb, false];
    const ca = scalar(constOf(a));
    if (ca !== undefined) return [b, ca, true];
    return undefined;
  };
  const isDefault = (n: NodeProto): boolean => !n.domain || n.domain === 'ai.onnx';

  for (const erf of nodes) {
    if (erf.opType !== 'Erf' || !isDefault(erf)) continue;
    const scaled = erf.input?.[0] ?? '';
    const first = producer.get(scaled);
    if (!first || only(scaled) !== erf) continue;
    const s = split(first);
    if (!s || s[2]) continue;
    const [x, c] = s;
    if (!((first.opType === 'Div' && near(c, Math.SQRT2)) || (first.opType === 'Mul' && near(c, Math.SQRT1_2)))) continue;
    const add = only(erf.output?.[0] ?? '');
    if (!add || add.opType !== 'Add') continue;
    const sa = split(add);
    if (!sa || sa[0] !== erf.output?.[0] || !near(sa[1], 1)) continue;
    const mul = only(add.output?.[0] ?? '');
    if (!mul || mul.opType !== 'Mul') continue;
    const other = (mul.input ?? []).find((i) => i !== add.output?.[0]);
    let match: NodeProto[] | undefined;
    let output = '';
    if (other === x) {
      // (x * (1 + erf)) * 0.5
      const half = only(mul.output?.[0] ?? '');
      const sh = half && half.opType === 'Mul' ? split(half) : undefined;
      if (half && sh && sh[0] === mul.output?.[0] && near(sh[1], 0.5)) {
        match = [first, erf, add, mul, half];
        output = half.output?.[0] ?? '';
      }
    } else if (other) {
      // (x * 0.5) * (1 + erf)
      const half = producer.get(other);
      const sh = half && half.opType === 'Mul' ? split(half) : undefined;
      if (half && sh && sh[0] === x && near(sh[1], 0.5) && only(other) === mul) {
        match = [first, half, erf, add, mul];
        output = mul.output?.[0] ?? '';
      }
    }
    if (!match || match.some((n) => plan.skip.has(n) || plan.starts.has(n))) continue;
    // The first node in topological order carries the match.
    const ordered = nodes.filter((n) => match!.includes(n));
    plan.starts.set(ordered[0], { input: x, output, nodes: ordered });
    for (const n of ordered.slice(1)) plan.skip.add(n);
  }
  return plan;
}
