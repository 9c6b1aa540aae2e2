/** Output formats of `lrp-lens check`: linter text, JSON, SARIF 2.1.0. Pure functions of the results. */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Finding, Severity } from '../core/artifacts/finding.js';
import type { ModelSummary } from '../core/artifacts/summary.js';
import { allChecks } from '../core/artifacts/catalogue.js';
import { REPOSITORY_URL } from '../core/artifacts/docs-link.js';

export interface CheckResult {
  findings: Finding[];
  summaries: ModelSummary[];
  staticOnly: boolean;
}

/** 1-based line and column of a character offset, for linter-style output. */
function lineCol(file: string, offset: number, cache: Map<string, string>): [number, number] | undefined {
  try {
    let text = cache.get(file);
    if (text === undefined) {
      text = readFileSync(file, 'utf8');
      cache.set(file, text);
    }
    let line = 1, last = -1;
    for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) { line++; last = i; }
    return [line, offset - last];
  } catch {
    return undefined;
  }
}

/** The remedy twin's name and statistic (remedy-twins.ts writes them into the finding's data), as the text line's tail. */
function twinNote(f: Finding): string {
  const name = f.data?.remedyTwin, value = f.data?.remedyTwinStatistic;
  if (typeof name !== 'string') return '';
  return `; without the artifact, the ${name} gives ${typeof value === 'number' && Number.isFinite(value) ? Number(value.toPrecision(3)) : 'n/a'}`;
}

export function formatText(r: CheckResult, cwd = process.cwd()): string {
  const cache = new Map<string, string>();
  const lines: string[] = [];
  for (const f of r.findings) {
    const file = relative(cwd, f.location.file) || f.location.file;
    const lc = f.location.range ? lineCol(f.location.file, f.location.range[0], cache) : undefined;
    const where = lc ? `${file}:${lc[0]}:${lc[1]}` : file;
    const layer = f.layer ? ` [${f.layer.name}]` : '';
    lines.push(`${where}: ${f.severity} ${f.code} ${f.message}${layer}${twinNote(f)}`);
  }
  for (const s of r.summaries) {
    const file = relative(cwd, s.file) || s.file;
    const c = s.counts;
    let line = `${file}: ${c.error} error(s), ${c.warning} warning(s), ${c.information} information`;
    if (s.artifactShare !== undefined) line += `; relevance on flagged artifact regions ${(100 * s.artifactShare).toFixed(1)} %, remaining ${(100 * (s.remainingShare ?? 0)).toFixed(1)} %`;
    if (s.factShare !== undefined) line += `; in the known signal region ${(100 * s.factShare).toFixed(1)} %`;
    lines.push(line);
  }
  if (r.staticOnly) lines.push('static checks only: the relevance-map checks (LRP2xx) did not run (they need data: --data FILE or --config lrp-lens.json)');
  return lines.join('\n') + '\n';
}

export function formatJson(r: CheckResult): string {
  return JSON.stringify(r, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2) + '\n';
}

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', information: 'note', hint: 'note' };

export function formatSarif(r: CheckResult, version: string): string {
  const rules = allChecks().map((m) => ({
    id: m.code,
    name: m.title.replace(/[^A-Za-z0-9]+(.)?/g, (_s, c: string | undefined) => (c ? c.toUpperCase() : '')),
    shortDescription: { text: m.title },
    helpUri: `${REPOSITORY_URL}/blob/main/docs/findings/${m.code}.md`,
    help: { text: m.remedy },
    defaultConfiguration: { level: LEVEL[m.severity] },
    properties: { thresholds: m.thresholds },
  }));
  const index = new Map(rules.map((x, i) => [x.id, i]));
  const results = r.findings.map((f) => {
    const physical: Record<string, unknown> = { artifactLocation: { uri: pathToFileURL(f.location.file).href } };
    if (f.location.range) physical.region = { charOffset: f.location.range[0], charLength: f.location.range[1] - f.location.range[0] };
    const loc: Record<string, unknown> = { physicalLocation: physical };
    if (f.layer) loc.logicalLocations = [{ name: f.layer.name, index: f.layer.index, kind: 'member' }];
    return {
      ruleId: f.code,
      ruleIndex: index.get(f.code),
      level: LEVEL[f.severity],
      message: { text: `${f.message}. Remedy: ${f.remedy}` },
      locations: [loc],
      // The finding's data as it is (statistic, control, p-value, and the remedy twin's name and statistic:
      // `remedyTwin`, `remedyTwinStatistic`), the same keys as `--format json`; no maps.
      properties: { severity: f.severity, docs: f.docs, ...(f.data ?? {}) },
    };
  });
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{ tool: { driver: { name: 'lrp-lens', version, informationUri: REPOSITORY_URL, rules } }, results, properties: { staticOnly: r.staticOnly } }],
  };
  return formatJson(sarif as unknown as CheckResult);
}
