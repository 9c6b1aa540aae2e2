/**
 * The report page: one HTML file with inline CSS, images from the same folder, no scripts and no
 * remote content. Finding codes link to docs/findings/<code>.md in the checkout (relative link) when
 * the page exists there, else to the finding's own docs URL.
 */
import { existsSync } from 'node:fs';
import { relative, join } from 'node:path';
import type { Finding } from '../artifacts/finding.js';
import type { ModelAnalysis } from './analyze.js';
import type { FigureFile } from './figures.js';
import type { ModelMetrics } from './metrics.js';
import { escapeHtml as esc } from '../render/escape.js';
import type { SequenceView } from './sequence.js';
import { formatHalfLife, sequenceFactsHtml } from './sequence-report.js';

/** What each code's row in the shares table counts, where that is not obvious. */
const SHARE_NOTES: Record<string, string> = {
  LRP202: "a rim's excess; a deficit is relevance missing there and counts nothing",
  LRP203:
    "the stronger stride phases' excess over the weakest, counted though LRP203 is information only: uneven phases can only come from the stride, but the statistic does not tell a kernel that fits the stride from one that does not",
};

export interface ReportSection {
  name: string;
  analysis?: ModelAnalysis;
  figures: FigureFile[];
  metrics?: ModelMetrics;
  /** A recurrent model fed the field in sequence mode: its sequence view. */
  sequence?: SequenceView;
  /** Why the model could not be analysed. */
  error?: { code: string; message: string };
}

export interface ReportPage {
  title: string;
  projectFile: string;
  outDir: string;
  /** Folder holding docs/findings (the checkout), if known. */
  docsRoot?: string;
  sections: ReportSection[];
  samplesPerClass: number;
  backend: string;
  seconds: number;
  generated: string;
}

const pct = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(1)} %`);

export function sectionId(name: string): string {
  return `model-${name.replace(/[^A-Za-z0-9_-]+/g, '-')}`;
}

function docsHref(page: ReportPage, f: Finding): string {
  if (page.docsRoot) {
    const local = join(page.docsRoot, 'docs', 'findings', `${f.code}.md`);
    if (existsSync(local)) return relative(page.outDir, local).split('\\').join('/');
  }
  return f.docs;
}

function findingsTable(page: ReportPage, findings: Finding[], what: string): string {
  if (findings.length === 0) return `<p class="none">No ${what} findings.</p>`;
  const rows = findings.map(
    (f) =>
      `<tr class="sev-${f.severity}"><td><a href="${esc(docsHref(page, f))}">${esc(f.code)}</a></td><td>${esc(f.severity)}</td><td>${f.layer ? esc(f.layer.name) : ''}</td><td>${esc(f.message)}</td></tr>`,
  );
  return `<table class="findings"><thead><tr><th>code</th><th>severity</th><th>layer</th><th>message</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** Findings codes of a model, unique, in order. */
/**
 * The codes that fired, warnings and errors first; a code that only informs (no warning or error of it)
 * is marked "(info)", so a remedy model's notes do not read like its twin's warnings.
 */
export function codesOf(a: ModelAnalysis): string[] {
  const all = [...a.staticFindings, ...a.mapFindings];
  const flagged = new Set(all.filter((f) => f.severity === 'error' || f.severity === 'warning').map((f) => f.code));
  const codes = [...new Set(all.map((f) => f.code))].sort();
  return [...codes.filter((c) => flagged.has(c)), ...codes.filter((c) => !flagged.has(c)).map((c) => `${c}(info)`)];
}

function section(page: ReportPage, s: ReportSection): string {
  const h = [`<section id="${sectionId(s.name)}" class="model"><h2>${esc(s.name)}</h2>`];
  if (s.metrics?.purpose) h.push(`<p class="purpose">${esc(s.metrics.purpose)}</p>`);
  if (s.error || !s.analysis) {
    h.push(`<p class="error">Not analysed: ${esc(s.error?.code ?? 'ERROR')}: ${esc(s.error?.message ?? 'unknown error')}</p></section>`);
    return h.join('');
  }
  const a = s.analysis;
  const m = s.metrics;
  h.push('<table class="facts"><tbody>');
  h.push(`<tr><th>model file</th><td>${esc(relative(page.outDir, a.file))} (${esc(a.format)}); also: ${a.files.filter((f) => f !== a.file).map((f) => esc(relative(page.outDir, f))).join(', ') || 'none'}</td></tr>`);
  h.push(`<tr><th>held-out accuracy</th><td>${m?.testAccuracy !== undefined ? `${m.testAccuracy.toFixed(3)} on ${m.testMonths ?? '?'} months of ${esc(m.testYears ?? '?')} (trained on ${esc(m.trainYears ?? '?')}; from metrics.json)${m.majorityBaseline !== undefined ? `; always answering the training years' most frequent class scores ${m.majorityBaseline.toFixed(3)}` : ''}${a.heldOut ? `; recomputed here: ${a.heldOut.accuracy.toFixed(3)} on ${a.heldOut.n} months` : ''}` : 'not reported'}</td></tr>`);
  h.push(`<tr><th>composite</th><td>${esc(a.composite)}</td></tr>`);
  h.push(`<tr><th>samples</th><td>${a.classes.map((c) => `${esc(c.name)}: ${c.n}`).join(', ')} (at most ${a.samplesPerClass} per class, spread over the record)</td></tr>`);
  h.push('</tbody></table>');

  h.push('<h3>Static findings (architecture)</h3>', findingsTable(page, a.staticFindings, 'static'));
  h.push('<h3>Relevance-map findings (on the project data)</h3>', findingsTable(page, a.mapFindings, 'relevance-map'));

  const fig = (kind: FigureFile['kind']): string => {
    const f = s.figures.find((x) => x.kind === kind);
    return f ? `<figure><img src="${esc(f.name)}" alt="${esc(`${a.name}: ${kind}`)}"><figcaption>${esc(f.caption)}</figcaption></figure>` : '';
  };
  h.push('<h3>Class-mean relevance</h3>', fig('classes'));
  if (s.sequence) h.push('<h3>Sequence view: the map as the model reads it, and its fading memory</h3>', sequenceFactsHtml(s.sequence), fig('sequence'));

  h.push('<h3>Fact or artifact</h3>');
  const by = a.summary.artifactByCode ?? {};
  const rows = [
    ...Object.entries(by).map(([code, v]) => `<tr><td>on regions flagged by ${esc(code)}${SHARE_NOTES[code] ? ` (${esc(SHARE_NOTES[code])})` : ''}</td><td>${pct(v)}</td></tr>`),
    // The border deficit or rim in absolute terms: what the padding moves on the flagged lines (against the twin).
    ...a.mapFindings
      .filter((f) => f.code === 'LRP202' && typeof f.data?.movedShare === 'number')
      .map((f) => `<tr><td>moved by the zero padding on the flagged border lines (LRP202, against the ${esc(String(f.data?.controlName))})</td><td>${pct(f.data!.movedShare as number)}</td></tr>`),
    `<tr><td>on all flagged regions (artifact share)</td><td>${pct(a.summary.artifactShare)}</td></tr>`,
    `<tr><td>remaining</td><td>${pct(a.summary.remainingShare)}</td></tr>`,
    `<tr><td><b>inside the Nino-3.4 box</b> (5N-5S, 170W-120W; the region that defines the label), all explained samples</td><td><b>${pct(a.ninoShare)}</b></td></tr>`,
    ...a.classes.map((c) => `<tr><td>inside Nino-3.4, ${esc(c.name)} samples</td><td>${pct(c.ninoShare)}</td></tr>`),
    `<tr><td>the box's share of the ${a.grid.masked ? 'unmasked ' : ''}cells (an even spread)</td><td>${pct(a.ninoArea)}</td></tr>`,
  ];
  h.push(`<table class="shares"><thead><tr><th>share of |R|</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>`);
  h.push(fig('artifacts'));
  const remedies = s.figures.filter((f) => f.kind === 'remedy');
  if (remedies.length) {
    h.push('<h3>Without the artifact: the remedy twins</h3>');
    for (const f of remedies) h.push(`<figure><img src="${esc(f.name)}" alt="${esc(`${a.name}: ${f.name}`)}"><figcaption>${esc(f.caption)}</figcaption></figure>`);
  }

  h.push('<h3>Sanity check: trained vs randomized</h3>');
  if (a.randomized.length) {
    h.push(`<p>Correlation of |R| with the trained model's maps as layers are re-initialized from the top: ${a.randomized.map((r) => `${r.layers.length} layer(s) ${Number.isFinite(r.similarity) ? r.similarity.toFixed(3) : 'n/a'}`).join(', ')} (LRP207 fires above 0.5).</p>`);
  }
  h.push(fig('sanity'));
  h.push('</section>');
  return h.join('');
}

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1400px;padding:0 1rem;color:#1b1b1b;background:#fff;line-height:1.4}
h1{font-size:1.6rem}h2{border-top:2px solid #ccc;padding-top:1rem;margin-top:2.5rem}h3{font-size:1.05rem;margin-top:1.4rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#f3f3f3}.sev-error td:nth-child(2){color:#b00020;font-weight:bold}.sev-warning td:nth-child(2){color:#a15c00;font-weight:bold}
.sev-information td:nth-child(2),.sev-hint td:nth-child(2){color:#245}figure{margin:.6rem 0}img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85rem;color:#444;max-width:1100px}.error{color:#b00020}.purpose{font-style:italic}.none{color:#555}
td.num{text-align:right;font-variant-numeric:tabular-nums}`;

export function renderHtml(page: ReportPage): string {
  const rows = page.sections.map((s) => {
    const a = s.analysis;
    const acc = s.metrics?.testAccuracy;
    return `<tr><td><a href="#${sectionId(s.name)}">${esc(s.name)}</a></td><td class="num">${acc !== undefined ? acc.toFixed(3) : '–'}</td><td class="num">${s.metrics?.majorityBaseline !== undefined ? s.metrics.majorityBaseline.toFixed(3) : '–'}</td><td>${a ? esc(codesOf(a).join(' ')) : esc(s.error?.code ?? '')}</td><td class="num">${a ? pct(a.ninoShare) : '–'}</td><td class="num">${a ? pct(a.summary.artifactShare) : '–'}</td><td class="num">${s.sequence ? esc(formatHalfLife(s.sequence)) : '–'}</td></tr>`;
  });
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(page.title)}</title><style>${CSS}</style></head>
<body><h1>${esc(page.title)}</h1>
<p>Project: ${esc(relative(page.outDir, page.projectFile))}. Made by <code>lrp-lens report</code> on ${esc(page.generated)} in ${page.seconds.toFixed(1)} s (backend ${esc(page.backend)}, at most ${page.samplesPerClass} samples per class). Which parts of each heat map are facts and which are artifacts of the architecture: static findings from the model file, relevance-map findings from LRP on the project's data, and the share of relevance in the Nino-3.4 box, the region whose SST anomaly defines the El Nino / La Nina label.</p>
<table class="summary"><thead><tr><th>model</th><th>held-out accuracy</th><th>majority-class baseline</th><th>findings</th><th>|R| in Nino-3.4</th><th>|R| on artifacts</th><th>memory half-life</th></tr></thead><tbody>${rows.join('')}</tbody></table>
${page.sections.map((s) => section(page, s)).join('\n')}
</body></html>
`;
}
