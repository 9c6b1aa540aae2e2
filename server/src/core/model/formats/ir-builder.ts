/**
 * What every op-graph importer (ONNX, TensorFlow GraphDef) keeps while it emits IR nodes: the nodes in
 * order, by name, under unique names, and the file its refusals name.
 */
import type { LayerNode } from '../graph.js';
import { LensError, type ErrorCode } from '../../errors.js';

export class IrBuilder {
  readonly nodes: LayerNode[] = [];
  protected readonly byName = new Map<string, LayerNode>();
  private readonly taken = new Set<string>();

  constructor(readonly file: string) {}

  /** `hint`: what to do instead; without one the loader adds the default for the code (refusal-hints.ts). */
  fail(code: ErrorCode, message: string, layer?: string, hint?: string): never {
    throw new LensError(code, message, { file: this.file, layer, hint });
  }

  /** `base`, else `base_1`, `base_2`, ...: the first name not yet taken ('node' for an empty base). */
  uniqueName(base: string): string {
    let name = base || 'node';
    for (let k = 1; this.taken.has(name); k++) name = `${base}_${k}`;
    this.taken.add(name);
    return name;
  }

  /** The IR node emitted under `name`. */
  node(name: string): LayerNode {
    const n = this.byName.get(name);
    if (!n) throw new Error(`no IR node ${name}`);
    return n;
  }
}
