/** ONNX structure ops -> Flatten, Reshape, Permute, Identity, ZeroPadding, Cropping, UpSampling, Concatenate; Transpose and Cast only move bookkeeping. */
import type { Shape } from '../graph.js';
import { type Act, type Builder, channelsLastAxes, identityAxes, irShape, sameAxes, sameOrder } from './onnx-build.js';
import { intList, reshapeDims } from './onnx-const.js';
import { Attrs, type NodeProto, type Sym, constNumbers } from './onnx-proto.js';
import { type Handler, type OpContext, irAxis, normAxis, onlyFirstOutput, product, setAct } from './onnx-op-util.js';


/** Flatten/Reshape/Squeeze/Unsqueeze on an activation, batch kept first. */
function reshapeTo(b: Builder, n: NodeProto, name: string, x0: Act, target: number[]): void {
  if (target.length === 2 && x0.shape.length >= 2) {
    const rest = product(x0.shape.slice(1));
    if (rest !== null && target[1] === rest) {
      if (x0.shape.length === 2) {
        setAct(b, n, x0);
        return;
      }
      // A flatten: the IR Flatten reorders channels-last to (C, spatial) when our tensor is channels-last.
      let x = x0;
      let channelsFirst: boolean;
      if (sameAxes(x.axes, channelsLastAxes(x.shape.length))) channelsFirst = true;
      else if (sameOrder(x)) channelsFirst = false;
      else {
        x = b.arrange(x, identityAxes(x.shape.length), name);
        channelsFirst = false;
      }
      const out: Act = { node: '', shape: [x.shape[0], rest], axes: [0, 1] };
      out.node = b.emit('Flatten', name, [x.node], { channelsFirst }, { className: n.opType!, onnxNodes: [name], outShape: irShape(out) });
      setAct(b, n, out);
      return;
    }
  }
  const x = sameOrder(x0) ? x0 : b.arrange(x0, identityAxes(x0.shape.length), name);
  const out: Act = { node: '', shape: [x.shape[0], ...target.slice(1)], axes: identityAxes(target.length) };
  out.node = b.emit('Reshape', name, [x.node], { targetShape: target.slice(1) }, { className: n.opType!, onnxNodes: [name], outShape: irShape(out) });
  setAct(b, n, out);
}

export const flatten: Handler = (b: Builder, n: NodeProto, name: string, ctx: OpContext) => {
  const x = b.act(n.input![0], name);
  const attrs = new Attrs(n, name);
  const r = x.shape.length;
  let axis = normAxis(b, attrs.int('axis', 1), r + 1, name);
  // keras2onnx writes Flatten(axis=0) on a fixed batch of 1: [1, everything], the same as axis 1 there.
  if (axis === 0 && ctx.fileBatch === 1) axis = 1;
  if (axis !== 1) {
    b.fail('UNSUPPORTED_CONFIG', `node ${name}: Flatten at axis ${axis} would merge the batch axis; only axis 1 is supported`, name, 're-export with Flatten(axis=1) (a batch-preserving flatten), or with a fixed batch size of 1');
  }
  const rest = product(x.shape.slice(1));
  if (rest === null) b.fail('UNSUPPORTED_CONFIG', `node ${name}: Flatten of a tensor with unknown sizes ${JSON.stringify(x.shape)}`, name);
  reshapeTo(b, n, name, x, [x.shape[0] ?? -1, rest]);
};

export const reshape: Handler = (b: Builder, n: NodeProto, name: string, ctx: OpContext) => {
  const x = b.act(n.input![0], name);
  const t = b.constReq(n.input![1], name, 'shape');
  const allowZero = new Attrs(n, name).int('allowzero', 0) === 1;
  const vals: Sym[] = t.ints ?? Array.from(t.float!);
  if (vals.length < 1) b.fail('UNSUPPORTED_CONFIG', `node ${name}: Reshape to a scalar`, name);
  const rest = product(x.shape.slice(1));
  if (rest === null) b.fail('UNSUPPORTED_CONFIG', `node ${name}: Reshape of a tensor with unknown sizes ${JSON.stringify(x.shape)}`, name);
  const [t0, ...tr] = vals;
  if (tr.some((v) => typeof v !== 'number')) b.fail('UNSUPPORTED_CONFIG', `node ${name}: Reshape target ${JSON.stringify(vals)} depends on unknown sizes`, name);
  // 0 entries (without allowzero) copy the input size at that position.
  const dims = (tr as number[]).map((v, i) => (v === 0 && !allowZero ? x.shape[i + 1] : v));
  if (dims.some((d) => d === null || d === undefined)) b.fail('UNSUPPORTED_CONFIG', `node ${name}: Reshape copies an unknown size`, name);
  const refuse = (): never =>
    b.fail('UNSUPPORTED_CONFIG', `node ${name}: Reshape to ${JSON.stringify(vals)} changes the batch axis; only reshapes that keep the batch are supported`, name);
  // The first entry must keep the batch: the symbolic batch, 0 (copy), -1 with the rest fixed, or the file's own batch size.
  let resolved: number[];
  if (t0 === -1) {
    if (dims.includes(-1) || product(dims) !== rest) refuse();
    resolved = dims as number[];
  } else if (t0 === 'N' || (t0 === 0 && !allowZero) || (typeof t0 === 'number' && t0 > 0 && t0 === ctx.fileBatch)) {
    try {
      resolved = reshapeDims([rest], dims as number[], true, name);
    } catch {
      return refuse();
    }
  } else {
    return refuse();
  }
  reshapeTo(b, n, name, x, [-1, ...resolved]);
};

export const squeezeLike = (unsq: boolean): Handler => (b: Builder, n: NodeProto, name: string, ctx: OpContext) => {
  const x = b.act(n.input![0], name);
  const attrs = new Attrs(n, name);
  const axesIn = ctx.opset >= 13 ? (n.input![1] ? intList(b.constOpt(n.input![1], name, 'axes'), 'axes', name) : undefined) : attrs.ints('axes');
  const r = x.shape.length;
  let shape: Shape;
  if (unsq) {
    if (!axesIn) b.fail('GRAPH_INVALID', `node ${name}: Unsqueeze without axes`, name);
    const ro = r + axesIn.length;
    const ax = axesIn.map((a) => normAxis(b, a, ro, name)).sort((p, q) => p - q);
    shape = [...x.shape];
    for (const a of ax) shape.splice(a, 0, 1);
    if (ax.includes(0)) b.fail('UNSUPPORTED_CONFIG', `node ${name}: Unsqueeze before the batch axis`, name);
  } else {
    const ax = axesIn ? axesIn.map((a) => normAxis(b, a, r, name)) : x.shape.map((d, i) => (i > 0 && d === 1 ? i : -1)).filter((i) => i >= 0);
    if (ax.includes(0)) b.fail('UNSUPPORTED_CONFIG', `node ${name}: Squeeze of the batch axis`, name);
    if (ax.some((a) => x.shape[a] !== 1)) b.fail('SHAPE_MISMATCH', `node ${name}: Squeeze of an axis whose size is not 1`, name);
    shape = x.shape.filter((_, i) => !ax.includes(i));
  }
  if (shape.slice(1).some((d) => d === null)) b.fail('UNSUPPORTED_CONFIG', `node ${name}: ${n.opType} of a tensor with unknown sizes`, name);
  reshapeTo(b, n, name, x, [-1, ...(shape.slice(1) as number[])]);
};

export const transpose: Handler = (b: Builder, n: NodeProto, name: string) => {
  const x = b.act(n.input![0], name);
  const r = x.shape.length;
  const perm = new Attrs(n, name).ints('perm') ?? identityAxes(r).reverse();
  if (perm.length !== r || [...perm].sort((p, q) => p - q).some((v, i) => v !== i)) b.fail('GRAPH_INVALID', `node ${name}: invalid perm ${perm}`, name);
  if (perm[0] !== 0) b.fail('UNSUPPORTED_CONFIG', `node ${name}: Transpose ${perm} moves the batch axis`, name);
  // out ONNX axis j = in ONNX axis perm[j]; the IR tensor is unchanged, only the bookkeeping moves.
  const inv = new Array<number>(r);
  perm.forEach((p, j) => (inv[p] = j));
  setAct(b, n, { node: x.node, shape: perm.map((p) => x.shape[p]), axes: x.axes.map((a) => inv[a]) });
};

export const identity: Handler = (b: Builder, n: NodeProto, name: string, ctx: OpContext) => {
  onlyFirstOutput(n, name, b, ctx);
  const x = b.act(n.input![0], name);
  const out: Act = { node: '', shape: x.shape, axes: x.axes };
  out.node = b.emit('Identity', name, [x.node], { originalClass: n.opType! }, { className: n.opType!, onnxNodes: [name], outShape: irShape(out) });
  setAct(b, n, out);
};

export const cast: Handler = (b: Builder, n: NodeProto, name: string) => {
  const x = b.act(n.input![0], name);
  const to = new Attrs(n, name).int('to', 1);
  if (to !== 1 && to !== 11 && to !== 10) b.fail('UNSUPPORTED_CONFIG', `node ${name}: Cast of an activation to a non-float type`, name);
  setAct(b, n, x);
};

export const pad: Handler = (b: Builder, n: NodeProto, name: string, ctx: OpContext) => {
  const x = b.act(n.input![0], name);
  const attrs = new Attrs(n, name);
  const mode = attrs.string('mode', 'constant');
  if (mode !== 'constant') b.fail('UNSUPPORTED_CONFIG', `node ${name}: Pad mode ${mode} (only constant zero padding is supported)`, name);
  const r = x.shape.length;
  let pads: number[];
  let value = 0;
  if (ctx.opset < 11) {
    pads = attrs.ints('pads') ?? attrs.ints('paddings') ?? [];
    value = attrs.float('value', 0);
  } else {
    pads = intList(b.constOpt(n.input![1], name, 'pads'), 'pads', name);
    const cv = b.constOpt(n.input![2], name, 'constant_value');
    if (cv) value = constNumbers(cv)?.[0] ?? NaN;
    if (n.input![3]) {
      // opset 18: pads only for the listed axes.
      const axes = intList(b.constOpt(n.input![3], name, 'axes'), 'axes', name).map((a) => normAxis(b, a, r, name));
      const full = new Array(2 * r).fill(0);
      axes.forEach((a, i) => {
        full[a] = pads[i];
        full[a + r] = pads[i + axes.length];
      });
      pads = full;
    }
  }
  if (value !== 0) b.fail('UNSUPPORTED_CONFIG', `node ${name}: Pad with value ${value} (only zero padding is supported)`, name);
  if (pads.length !== 2 * r) b.fail('GRAPH_INVALID', `node ${name}: pads has ${pads.length} entries for a rank-${r} tensor`, name);
  if (r < 3 || r > 5) b.fail('UNSUPPORTED_CONFIG', `node ${name}: Pad of a rank-${r} tensor`, name);
  const fixed = [x.axes[0], x.axes[r - 1]];
  if (fixed.some((a) => pads[a] !== 0 || pads[a + r] !== 0)) b.fail('UNSUPPORTED_CONFIG', `node ${name}: Pad of the batch or channel axis`, name);
  const pairs = Array.from({ length: r - 2 }, (_, i) => [pads[x.axes[i + 1]], pads[x.axes[i + 1] + r]] as [number, number]);
  const flat = pairs.flat();
  const shape = x.shape.map((d, i) => (d === null ? null : d + pads[i] + pads[i + r]));
  if (flat.every((v) => v === 0)) {
    setAct(b, n, x);
    return;
  }
  const out: Act = { node: '', shape, axes: x.axes };
  const rank = (r - 2) as 1 | 2 | 3;
  if (flat.every((v) => v >= 0)) {
    out.node = b.emit('ZeroPadding', name, [x.node], { rank, pads: pairs }, { className: 'Pad', onnxNodes: [name], outShape: irShape(out) });
  } else if (flat.every((v) => v <= 0)) {
    out.node = b.emit('Cropping', name, [x.node], { rank, crops: pairs.map(([p, q]) => [-p, -q] as [number, number]) }, { className: 'Pad', onnxNodes: [name], outShape: irShape(out) });
  } else {
    b.fail('UNSUPPORTED_CONFIG', `node ${name}: Pad that both pads and crops`, name);
  }
  setAct(b, n, out);
};

/** Slice of spatial axes with step 1 (a crop, as tf2onnx writes Keras Cropping layers) -> Cropping. */
export const slice: Handler = (b: Builder, n: NodeProto, name: string, ctx: OpContext) => {
  const x = b.act(n.input![0], name);
  const attrs = new Attrs(n, name);
  let starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined;
  if (ctx.opset < 10) {
    starts = attrs.ints('starts') ?? [];
    ends = attrs.ints('ends') ?? [];
    axes = attrs.ints('axes');
  } else {
    starts = intList(b.constOpt(n.input![1], name, 'starts'), 'starts', name);
    ends = intList(b.constOpt(n.input![2], name, 'ends'), 'ends', name);
    axes = n.input![3] ? intList(b.constOpt(n.input![3], name, 'axes'), 'axes', name) : undefined;
    steps = n.input![4] ? intList(b.constOpt(n.input![4], name, 'steps'), 'steps', name) : undefined;
  }
  const r = x.shape.length;
  const ax = (axes ?? starts.map((_, i) => i)).map((a) => normAxis(b, a, r, name));
  if (ends.length !== ax.length || starts.length !== ax.length) b.fail('GRAPH_INVALID', `node ${name}: Slice starts/ends/axes differ in length`, name);
  const crops: [number, number][] = Array.from({ length: Math.max(r - 2, 0) }, () => [0, 0]);
  const shape = [...x.shape];
  ax.forEach((a, k) => {
    const d = x.shape[a];
    const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + (d ?? 0) : v, 0), d ?? 0);
    if ((steps?.[k] ?? 1) !== 1) b.fail('UNSUPPORTED_CONFIG', `node ${name}: Slice with step ${steps![k]}`, name);
    if (d === null) b.fail('UNSUPPORTED_CONFIG', `node ${name}: Slice of an axis of unknown size`, name);
    const st = clamp(starts[k]);
    const en = clamp(ends[k]);
    if (st === 0 && en === d) return;
    const i = x.axes.indexOf(a);
    if (i === 0 || i === r - 1 || r < 3 || r > 5) b.fail('UNSUPPORTED_CONFIG', `node ${name}: Slice of the batch or channel axis (only spatial crops are supported)`, name);
    if (en <= st) b.fail('UNSUPPORTED_CONFIG', `node ${name}: Slice leaves nothing`, name);
    crops[i - 1] = [st, d - en];
    shape[a] = en - st;
  });
  if (crops.every(([p, q]) => p === 0 && q === 0)) {
    setAct(b, n, x);
    return;
  }
  const out: Act = { node: '', shape, axes: x.axes };
  out.node = b.emit('Cropping', name, [x.node], { rank: (r - 2) as 1 | 2 | 3, crops }, { className: 'Slice', onnxNodes: [name], outShape: irShape(out) });
  setAct(b, n, out);
};

export const resize: Handler = (b: Builder, n: NodeProto, name: string, ctx: OpContext) => {
  const x = b.act(n.input![0], name);
  const attrs = new Attrs(n, name);
  const r = x.shape.length;
  const op = n.opType!;
  let scales: number[] | undefined;
  let sizes: number[] | undefined;
  if (op === 'Upsample') {
    scales = ctx.opset < 9 ? attrs.floats('scales') : constNumbers(b.constReq(n.input![1], name, 'scales'));
  } else if (ctx.opset < 11) {
    scales = constNumbers(b.constReq(n.input![1], name, 'scales'));
  } else {
    const sc = b.constOpt(n.input![2], name, 'scales');
    const sz = b.constOpt(n.input![3], name, 'sizes');
    if (sc && sc.dims.reduce((p, d) => p * d, 1) > 0) scales = constNumbers(sc);
    else if (sz) sizes = constNumbers(sz);
    // Opset 18: scales/sizes for the listed axes only; the others keep their size.
    const axes = attrs.ints('axes');
    if (axes) {
      const ax = axes.map((a) => normAxis(b, a, r, name));
      const given = scales ?? sizes;
      if (!given || given.length !== ax.length) b.fail('GRAPH_INVALID', `node ${name}: Resize has ${given?.length ?? 0} scales/sizes for ${ax.length} axes`, name);
      if (scales) scales = Array.from({ length: r }, (_, i) => (ax.includes(i) ? given[ax.indexOf(i)] : 1));
      else sizes = Array.from({ length: r }, (_, i) => (ax.includes(i) ? given[ax.indexOf(i)] : (x.shape[i] ?? 1)));
    }
    if (sizes && attrs.string('keep_aspect_ratio_policy', 'stretch') !== 'stretch') {
      b.fail('UNSUPPORTED_CONFIG', `node ${name}: Resize with keep_aspect_ratio_policy ${attrs.string('keep_aspect_ratio_policy', '')}`, name);
    }
  }
  if (sizes) {
    if (sizes.length !== r) b.fail('GRAPH_INVALID', `node ${name}: sizes has ${sizes.length} entries for a rank-${r} tensor`, name);
    scales = sizes.map((s, i) => (i === 0 ? 1 : x.shape[i] === null ? NaN : s / (x.shape[i] as number)));
  }
  if (!scales || scales.length !== r) b.fail('UNSUPPORTED_CONFIG', `node ${name}: ${op} needs constant scales or sizes for every axis`, name);
  const fixed = [x.axes[0], x.axes[r - 1]];
  if (fixed.some((a) => scales![a] !== 1)) b.fail('UNSUPPORTED_CONFIG', `node ${name}: ${op} scales the batch or channel axis`, name);
  const size = Array.from({ length: r - 2 }, (_, i) => scales![x.axes[i + 1]]);
  if (size.some((s) => !Number.isInteger(s) || s < 1)) b.fail('UNSUPPORTED_CONFIG', `node ${name}: ${op} with non-integer scales ${scales}`, name);
  const mode = attrs.string('mode', 'nearest');
  const ctm = op === 'Resize' && ctx.opset >= 11 ? attrs.string('coordinate_transformation_mode', 'half_pixel') : 'asymmetric';
  const nearestMode = op === 'Resize' && ctx.opset >= 11 ? attrs.string('nearest_mode', 'round_prefer_floor') : 'floor';
  let interpolation: 'nearest' | 'bilinear';
  if (mode === 'nearest') {
    // Integer-factor nearest is a plain repeat for these coordinate/rounding combinations.
    const halfPixel = ['half_pixel', 'pytorch_half_pixel', 'tf_half_pixel_for_nn'].includes(ctm) && nearestMode.startsWith('round_prefer');
    const asym = ctm === 'asymmetric' && (nearestMode === 'floor' || (nearestMode === 'round_prefer_floor' && size.every((s) => s <= 2)));
    if (!halfPixel && !asym) b.fail('UNSUPPORTED_CONFIG', `node ${name}: ${op} nearest with ${ctm}/${nearestMode}`, name);
    interpolation = 'nearest';
  } else if ((mode === 'linear' || mode === 'bilinear') && op === 'Resize' && r === 4 && (ctm === 'half_pixel' || ctm === 'pytorch_half_pixel')) {
    interpolation = 'bilinear';
  } else {
    return b.fail('UNSUPPORTED_CONFIG', `node ${name}: ${op} mode ${mode} (${ctm}) is not supported`, name);
  }
  const out: Act = { node: '', shape: x.shape.map((d, i) => (d === null ? null : d * scales![i])), axes: x.axes };
  out.node = b.emit('UpSampling', name, [x.node], { rank: (r - 2) as 1 | 2 | 3, size, interpolation }, { className: op, onnxNodes: [name], outShape: irShape(out) });
  setAct(b, n, out);
};

export const concat: Handler = (b: Builder, n: NodeProto, name: string) => {
  const ins = (n.input ?? []).filter((i) => i).map((i) => b.act(i, name));
  if (ins.length === 0) b.fail('GRAPH_INVALID', `node ${name}: Concat without inputs`, name);
  const r = ins[0].shape.length;
  const axis = normAxis(b, new Attrs(n, name).int('axis', 1), r, name);
  if (axis === 0) b.fail('UNSUPPORTED_CONFIG', `node ${name}: Concat along the batch axis`, name);
  const xs = ins.map((a) => b.arrange(a, ins[0].axes, name));
  for (const a of xs) {
    if (a.shape.length !== r || a.shape.some((d, i) => i !== axis && i > 0 && d !== null && xs[0].shape[i] !== null && d !== xs[0].shape[i])) {
      b.fail('SHAPE_MISMATCH', `node ${name}: Concat inputs ${xs.map((q) => JSON.stringify(q.shape)).join(', ')} do not fit`, name);
    }
  }
  const shape = [...xs[0].shape];
  shape[axis] = xs.some((a) => a.shape[axis] === null) ? null : xs.reduce((s, a) => s + (a.shape[axis] as number), 0);
  const out: Act = { node: '', shape, axes: xs[0].axes };
  out.node = b.emit('Concatenate', name, xs.map((a) => a.node), { axis: irAxis(xs[0], axis) }, { className: 'Concat', onnxNodes: [name], outShape: irShape(out) });
  setAct(b, n, out);
};

