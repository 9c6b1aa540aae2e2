/**
 * `lrp-lens merge DIR... --out OUTDIR [--json]`: the folders written by `lrp-lens explain ... --shard I/N
 * --out DIR` (core/session/shards.ts: format, slicing, what is checked) combined into what one machine
 * gives: OUTDIR/class-means.npy (float64 [classes, ...map shape]; classes as merged.json lists them),
 * OUTDIR/merged.json (classes, counts, the run's findings) and, when every shard wrote --maps,
 * OUTDIR/relevance.npy (every sample's map in sample order, as `explain --out` writes it).
 * Also here: the output of `explain --shard` (explain.ts hands its session over).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs, requireFlag } from './args.js';
import { LensError } from '../core/errors.js';
import { writeNpy } from '../core/data/npy.js';
import { outputFolder } from './files.js';
import { mergeShards, readShard, writeShard, type ShardSpec } from '../core/session/shards.js';
import { explainShard, type ShardRunOptions } from '../core/session/shard-run.js';
import type { Session } from '../core/session/session.js';

const USAGE = 'usage: lrp-lens merge DIR... --out OUTDIR [--json]';

/** `explain --shard I/N --out DIR`: explain the shard's block and write its folder. */
export async function writeShardRun(session: Session, spec: ShardSpec, out: string, o: ShardRunOptions & { json: boolean; backend: string }, write: (s: string) => void): Promise<number> {
  const part = await explainShard(session, spec, o);
  const files = await writeShard(out, part);
  const m = part.manifest;
  if (o.json) {
    write(JSON.stringify({ shard: m.shard, scheme: m.scheme, backend: o.backend, engine: part.engine, samples: m.samples, classBy: m.classBy, classes: m.classes, findings: m.findings?.length ?? null, findingsNote: m.findingsNote ?? null, files }, null, 2) + '\n');
  } else {
    const lines = [
      `shard ${spec.index}/${spec.count}: samples ${m.samples.start}..${m.samples.stop - 1} of ${m.samples.total} (contiguous blocks), backend ${o.backend}, engine ${part.engine} -> ${out}`,
      `class sums by ${m.classBy}: ${m.classes.map((c) => `${m.classNames?.[c.class] ?? c.class} (${c.count})`).join(', ') || 'none (empty block)'}`,
      m.findings ? `findings: ${m.findings.length} (the whole run's, merged from this shard)` : `findings: ${m.findingsNote}`,
    ];
    write(lines.join('\n') + '\n');
  }
  return 0;
}

export async function run(argv: string[], write: (s: string) => void = (s) => void process.stdout.write(s)): Promise<number> {
  const args = parseArgs(argv, ['json']);
  for (const k of args.flags.keys()) if (k !== 'out' && k !== 'json') throw new LensError('USAGE', `unknown option --${k}\n${USAGE}`);
  if (!args.positional.length) throw new LensError('USAGE', USAGE);
  const out = await outputFolder(requireFlag(args, 'out'), '--out');
  const parts = [];
  for (const dir of args.positional) parts.push(await readShard(dir));
  const merged = mergeShards(parts);
  await mkdir(out, { recursive: true });
  const files = [join(out, 'class-means.npy'), join(out, 'merged.json')];
  await writeFile(files[0], writeNpy(merged.means, [merged.classes.length, ...merged.mapShape]));
  if (merged.maps) {
    files.push(join(out, 'relevance.npy'));
    await writeFile(files[2], writeNpy(merged.maps, [merged.samples, ...merged.mapShape]));
  }
  const { means: _m, maps: _r, ...summary } = merged;
  const doc = { ...summary, files: { classMeans: files[0], relevance: merged.maps ? files[2] : null } };
  await writeFile(files[1], JSON.stringify(doc, null, 1) + '\n');
  if (args.flags.get('json') === true) write(JSON.stringify(doc, null, 2) + '\n');
  else {
    const lines = [
      `merged ${merged.shards} shard(s), ${merged.samples} samples -> ${out}`,
      `class means by ${merged.classBy} (${files[0]}): ${merged.classes.map((c) => `${c.name ?? c.class} (${c.count})`).join(', ')}`,
      merged.findings ? `findings: ${merged.findings.map((f) => f.code).join(' ') || 'none'}` : `findings: not judged (${merged.findingsNote})`,
    ];
    if (merged.maps) lines.push(`maps: ${files[2]}`);
    write(lines.join('\n') + '\n');
  }
  return 0;
}
