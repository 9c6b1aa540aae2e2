/**
 * One shard of a sharded explain (shards.ts says the format and why): the session's data are loaded
 * whole (so data-derived settings such as the ZBox bounds are the single run's), the shard's block is
 * explained, its maps summed per class; shard 0 also runs the static and map checks the single run gives.
 */
import { toLensError } from '../errors.js';
import type { Finding } from '../artifacts/finding.js';
import { checkMaps, staticFindings } from './check-maps.js';
import { featuresOnGrid } from './data-grid.js';
import { dataFile } from './data-source.js';
import { explain, explainerOptions, type Session } from './session.js';
import { classSums, runIdentity, shardRange, SHARD_FORMAT, SHARD_VERSION, type ShardPart, type ShardSpec } from './shards.js';

export interface ShardRunOptions {
  /** Samples per engine pass. */
  chunk?: number;
  /** Write the shard's per-sample maps too. */
  maps?: boolean;
  /** Maps on the data's grid (a flatten "valid" input scattered back, NaN off its cells) or in the model's layout. */
  layout?: 'grid' | 'model';
  /** Skip the checks on shard 0 (findings null). */
  noChecks?: boolean;
}

export async function explainShard(session: Session, spec: ShardSpec, o: ShardRunOptions = {}): Promise<ShardPart & { engine: string }> {
  const data = session.data!;
  const n = data.x.shape[0];
  const { start, stop } = shardRange(n, spec);
  const indices = Array.from({ length: stop - start }, (_, i) => start + i);
  const e = await explain(session, { indices, defaultMax: Infinity, chunk: o.chunk });
  const layout = o.layout ?? 'grid';
  const g = featuresOnGrid({ scatter: layout === 'grid' ? data.scatter : undefined }, e.relevance.data, indices.length, NaN);
  const mapShape = g.perShape ?? e.relevance.shape.slice(1);
  const per = mapShape.reduce((a, b) => a * b, 1);
  const classBy = data.labels ? 'label' : 'target';
  const keys = data.labels ? indices.map((i) => data.labels![i]) : e.targets.map((t) => t.index);
  const sums = classSums(g.data, keys, per);
  const settings = { method: session.choice.method, explainer: explainerOptions(session), target: session.choice.target, init: session.choice.init, layout, classBy };
  let findings: Finding[] | null = null;
  let findingsNote: string | undefined;
  if (spec.index !== 0) findingsNote = 'judged by shard 0';
  else if (o.noChecks) findingsNote = 'checks not run (--no-checks)';
  else {
    try {
      const judged = [...staticFindings(session), ...(await checkMaps(session)).mapFindings];
      // Stored as JSON, as `check --format json` prints them.
      findings = JSON.parse(JSON.stringify(judged)) as Finding[];
    } catch (err) {
      const le = toLensError(err);
      if (le.code !== 'USAGE') throw le;
      findingsNote = `map checks not run: ${le.message}`;
    }
  }
  return {
    engine: e.engine.name,
    manifest: {
      format: SHARD_FORMAT,
      version: SHARD_VERSION,
      shard: spec,
      scheme: 'contiguous',
      run: runIdentity(session.graph, data.x.data, settings),
      describe: { model: session.graph.file, data: dataFile(data), composite: e.composite, engine: e.engine.name, ...settings },
      samples: { total: n, start, stop },
      mapShape,
      classBy,
      ...(data.classNames ? { classNames: data.classNames } : {}),
      classes: sums.classes.map((c, i) => ({ class: c, count: sums.counts[i] })),
      maps: !!o.maps,
      findings,
      ...(findingsNote ? { findingsNote } : {}),
    },
    sums: sums.sums,
    ...(o.maps ? { maps: g.data } : {}),
  };
}
