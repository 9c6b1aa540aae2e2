/**
 * What every check module provides (ESLint-style): its metadata next to its check function. The
 * runner (catalogue.ts) knows no single check; adding a check is one module plus one docs page.
 */
import type { LayerNode, ModelGraph } from '../model/graph.js';
import type { Finding, Severity } from './finding.js';
import { docsLink } from './docs-link.js';
import type { Geometry } from './geometry.js';
import type { MapContext } from './map-context.js';
import type { RuleMapEntry } from '../lrp/composites.js';

export interface CheckMeta {
  /** Stable code: LRP1xx static, LRP2xx relevance-map. */
  code: string;
  title: string;
  /** Severity unless the check says otherwise for one finding or the user overrides it. */
  severity: Severity;
  /** Thresholds the check judges against, named; each is documented with its figure in the docs page. */
  thresholds: Record<string, number>;
  /** Default remedy (a finding may give a more specific one). */
  remedy: string;
}

export interface StaticOptions {
  /** Composite the user will explain with (LRP112 needs it; other checks ignore it). */
  composite?: string;
  /** The user's rule map on top of the composite (engine syntax), as the explainer will apply it (LRP112). */
  ruleMap?: RuleMapEntry[];
  /** Per-code severity override or 'off' (like an ESLint config). */
  severity?: Record<string, Severity | 'off'>;
  /** Layers the LRP engine cannot propagate: node -> reason, or null when it can (LRP111). */
  lrpSupport?: (node: LayerNode, graph: ModelGraph) => string | null;
}

export interface StaticContext {
  graph: ModelGraph;
  opts: StaticOptions;
  geometry: Geometry;
}

export interface StaticCheck {
  meta: CheckMeta;
  check(ctx: StaticContext): Finding[];
}

export interface MapCheck {
  meta: CheckMeta;
  check(ctx: MapContext): Finding[];
}

export interface Report {
  node?: LayerNode;
  message: string;
  data?: Finding['data'];
  severity?: Severity;
  remedy?: string;
}

/** Build one finding of `meta`'s code about `graph` (and a node: its index, and its JSON range where the file has one). */
export function makeFinding(meta: CheckMeta, graph: ModelGraph, r: Report): Finding {
  const f: Finding = {
    code: meta.code,
    severity: r.severity ?? meta.severity,
    message: r.message,
    location: { file: graph.file },
    remedy: r.remedy ?? meta.remedy,
    docs: docsLink(meta.code),
  };
  if (r.node) {
    f.layer = { name: r.node.name, index: graph.nodes.indexOf(r.node) };
    if (r.node.source.jsonRange) f.location.range = [...r.node.source.jsonRange];
  }
  if (r.data) f.data = r.data;
  return f;
}

/** How a node is named in messages: the file's class and the layer name. */
export function label(node: LayerNode): string {
  return `${node.source.className || node.kind} '${node.name}'`;
}

/** Numbers in messages: a few significant digits, no exponent noise for ordinary values. */
export function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) >= 1e5 || Math.abs(x) < 1e-3)) return x.toExponential(2);
  return String(Number(x.toPrecision(digits)));
}

export function pct(x: number): string {
  return `${fmt(100 * x, 3)} %`;
}
