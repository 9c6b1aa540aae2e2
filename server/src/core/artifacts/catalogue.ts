/**
 * The catalogue: every check, in code order, and the runner. The runner knows no single check: it runs
 * each module's function, applies severity overrides, and turns a crashing check into a finding so one
 * bad model never stops the rest.
 */
import type { ModelGraph } from '../model/graph.js';
import type { LensError } from '../errors.js';
import type { CheckMeta, MapCheck, StaticCheck, StaticOptions } from './check.js';
import { makeFinding } from './check.js';
import { docsLink } from './docs-link.js';
import type { Finding, Severity } from './finding.js';
import { computeGeometry } from './geometry.js';
import type { MapContext } from './map-context.js';

import { check as lrp101 } from './checks/lrp101-border-padding.js';
import { check as lrp102 } from './checks/lrp102-stride-grid.js';
import { check as lrp103 } from './checks/lrp103-max-pooling.js';
import { check as lrp104 } from './checks/lrp104-batchnorm-placement.js';
import { check as lrp105 } from './checks/lrp105-output-nonlinearity.js';
import { check as lrp106 } from './checks/lrp106-hidden-activation.js';
import { check as lrp107 } from './checks/lrp107-linear-network.js';
import { check as lrp108 } from './checks/lrp108-large-bias.js';
import { check as lrp109 } from './checks/lrp109-merge-layers.js';
import { check as lrp110 } from './checks/lrp110-dense-on-grid.js';
import { check as lrp111 } from './checks/lrp111-lrp-unsupported.js';
import { check as lrp112 } from './checks/lrp112-zplus-chain.js';
import { check as lrp113 } from './checks/lrp113-model-focus.js';
import { check as lrp114 } from './checks/lrp114-sequence-field.js';
import { check as lrp115 } from './checks/lrp115-memory-horizon.js';
import { check as lrp116 } from './checks/lrp116-gates-no-relevance.js';
import { check as lrp201 } from './checks/lrp201-conservation.js';
import { check as lrp202 } from './checks/lrp202-border-band.js';
import { check as lrp203 } from './checks/lrp203-stride-grid.js';
import { check as lrp204 } from './checks/lrp204-sparsity.js';
import { check as lrp205 } from './checks/lrp205-negative-zplus.js';
import { check as lrp206 } from './checks/lrp206-class-insensitive.js';
import { check as lrp207 } from './checks/lrp207-randomization.js';
import { check as lrp208 } from './checks/lrp208-blank-prior.js';
import { check as lrp209 } from './checks/lrp209-masked-cells.js';
import { check as lrp210 } from './checks/lrp210-input-copy.js';
import { check as lrp211 } from './checks/lrp211-nonfinite.js';
import { check as lrp212 } from './checks/lrp212-sequence-stripes.js';
import { check as lrp213 } from './checks/lrp213-fading-memory.js';
import { check as lrp214 } from './checks/lrp214-recurrent-leak.js';
import { check as lrp215 } from './checks/lrp215-zero-end-step.js';
import { check as lrp216 } from './checks/lrp216-order-dependence.js';

export const STATIC_CHECKS: StaticCheck[] = [lrp101, lrp102, lrp103, lrp104, lrp105, lrp106, lrp107, lrp108, lrp109, lrp110, lrp111, lrp112, lrp113, lrp114, lrp115, lrp116];
export const MAP_CHECKS: MapCheck[] = [lrp201, lrp202, lrp203, lrp204, lrp205, lrp206, lrp207, lrp208, lrp209, lrp210, lrp211, lrp212, lrp213, lrp214, lrp215, lrp216];

export const LOAD_FAILURE: CheckMeta = {
  code: 'LRP100',
  title: 'Model cannot be loaded',
  severity: 'error',
  thresholds: {},
  remedy: 'Fix or re-export the file (the message names what the loader could not read); the other models in the folder are still checked.',
};

/** Every code's metadata, for docs, SARIF rules and the panel. */
export function allChecks(): CheckMeta[] {
  return [LOAD_FAILURE, ...STATIC_CHECKS.map((c) => c.meta), ...MAP_CHECKS.map((c) => c.meta)];
}

export interface MapOptions {
  severity?: Record<string, Severity | 'off'>;
}

function applyOverrides(findings: Finding[], overrides: Record<string, Severity | 'off'> | undefined): Finding[] {
  if (!overrides) return findings;
  const out: Finding[] = [];
  for (const f of findings) {
    const o = overrides[f.code];
    if (o === 'off') continue;
    out.push(o ? { ...f, severity: o } : f);
  }
  return out;
}

function crashed(meta: CheckMeta, graph: ModelGraph, e: unknown): Finding {
  return makeFinding(meta, graph, {
    severity: 'warning',
    message: `check ${meta.code} could not be evaluated on this model: ${e instanceof Error ? e.message : String(e)}`,
  });
}

export function runStaticChecks(graph: ModelGraph, opts: StaticOptions = {}): Finding[] {
  const ctx = { graph, opts, geometry: computeGeometry(graph) };
  const out: Finding[] = [];
  for (const c of STATIC_CHECKS) {
    if (opts.severity?.[c.meta.code] === 'off') continue;
    try {
      out.push(...c.check(ctx));
    } catch (e) {
      out.push(crashed(c.meta, graph, e));
    }
  }
  return applyOverrides(out, opts.severity);
}

export function runMapChecks(ctx: MapContext, opts: MapOptions = {}): Finding[] {
  const out: Finding[] = [];
  for (const c of MAP_CHECKS) {
    if (opts.severity?.[c.meta.code] === 'off') continue;
    try {
      out.push(...c.check(ctx));
    } catch (e) {
      out.push(crashed(c.meta, ctx.graph, e));
    }
  }
  return applyOverrides(out, opts.severity);
}

/** LRP100: a model that could not be loaded is one finding carrying the loader's code and message. */
export function loadFailureFinding(err: LensError, file?: string): Finding {
  const f: Finding = {
    code: LOAD_FAILURE.code,
    severity: LOAD_FAILURE.severity,
    message: `the model cannot be loaded: ${err.code}: ${err.message}${err.layer ? ` (layer '${err.layer}')` : ''}`,
    location: { file: err.file ?? file ?? '' },
    remedy: LOAD_FAILURE.remedy,
    docs: docsLink(LOAD_FAILURE.code),
    data: { errorCode: err.code },
  };
  if (err.layer) f.data!.layer = err.layer;
  return f;
}
