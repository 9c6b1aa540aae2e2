/**
 * Element-wise merges: Add, Subtract, Average, Multiply, Maximum, Minimum. Inputs broadcast (Keras needs
 * equal shapes; ONNX Add/Mul broadcast numpy-style), the output takes the broadcast shape.
 */
import type { KindModule } from './kind.js';
import type { Dim, LayerKind, LayerNodeOf, Shape } from '../graph.js';
import { type TF, type Tensor, checkSize, fmtShape, mismatch } from './common.js';

type MergeKind = 'Add' | 'Subtract' | 'Average' | 'Multiply' | 'Maximum' | 'Minimum';

export function broadcastShapes(node: { name: string }, shapes: Shape[]): Shape {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const k = i - (rank - s.length);
      const v = k >= 0 ? s[k] : 1;
      if (v === 1) continue;
      if (d === 1) d = v;
      else if (v === null || d === null) d = d ?? v;
      else if (v !== d) mismatch(node, `layer ${node.name}: inputs ${shapes.map(fmtShape).join(', ')} do not broadcast together`);
    }
    out.push(d);
  }
  return out;
}

function makeMerge<K extends MergeKind>(kind: K, minInputs: number, maxInputs: number, op: (tf: TF, xs: Tensor[]) => Tensor): KindModule<K> {
  return {
    kind,
    inferShape(node: LayerNodeOf<K>, inputs: Shape[]): Shape {
      if (inputs.length < minInputs || inputs.length > maxInputs) {
        mismatch(node, `${kind} layer ${node.name} takes ${minInputs === maxInputs ? minInputs : `${minInputs} or more`} inputs, got ${inputs.length}`);
      }
      return checkSize(node, broadcastShapes(node, inputs));
    },
    forward(_node: LayerNodeOf<K>, inputs: Tensor[], tf: TF): Tensor {
      return inputs.length === 1 ? inputs[0] : op(tf, inputs);
    },
  };
}

const fold = (f: (a: Tensor, b: Tensor) => Tensor) => (xs: Tensor[]) => xs.slice(1).reduce((acc, x) => f(acc, x), xs[0]);

export const add = makeMerge('Add', 1, Infinity, (tf, xs) => fold(tf.add)(xs));
export const subtract = makeMerge('Subtract', 2, 2, (tf, xs) => tf.sub(xs[0], xs[1]));
export const average = makeMerge('Average', 1, Infinity, (tf, xs) => tf.div(fold(tf.add)(xs), xs.length));
export const multiply = makeMerge('Multiply', 1, Infinity, (tf, xs) => fold(tf.mul)(xs));
export const maximum = makeMerge('Maximum', 1, Infinity, (tf, xs) => fold(tf.maximum)(xs));
export const minimum = makeMerge('Minimum', 1, Infinity, (tf, xs) => fold(tf.minimum)(xs));

export const MERGE_KINDS: readonly LayerKind[] = ['Add', 'Subtract', 'Average', 'Multiply', 'Maximum', 'Minimum'];
