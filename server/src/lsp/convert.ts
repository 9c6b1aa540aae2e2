/**
 * The one place where the server's results become LSP types: findings, load errors and lrp-lens.json
 * problems as diagnostics, layer summaries as hovers. JSON files (model.json, Keras to_json,
 * lrp-lens.json): at the character range the finding names; binary files: at the start of the file.
 */
import { DiagnosticSeverity, type Diagnostic, type DiagnosticRelatedInformation, type Hover, type Range } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { LensError } from '../core/errors.js';
import type { FindingSummary, ModelSummary, ProtocolError } from '../protocol.js';
import type { ProjectIssue } from './analyzer.js';

export const SOURCE = 'lrp-lens';
/** The code of "this model did not load" (one diagnostic carrying the structured error). */
export const LOAD_ERROR_CODE = 'LRP100';

/** Maps a finding's docs link to the one to show (e.g. the bundled page). */
export type DocsHref = (link: string, code: string) => string;

const SEVERITY: Record<FindingSummary['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

const FILE_START: Range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

/** [start, end) offsets as a range, exactly. */
export function offsetRange(doc: TextDocument, range: [number, number]): Range {
  return { start: doc.positionAt(range[0]), end: doc.positionAt(range[1]) };
}

/** Offsets -> positions in a file's text; the start of the file when there is no text or no range. */
export function rangeIn(doc: TextDocument | undefined, range: [number, number] | undefined): Range {
  if (!doc || !range) return FILE_START;
  const start = doc.positionAt(range[0]);
  // A layer entry can be long: underline its first line only, so the Problems panel stays readable.
  let end = doc.positionAt(range[1]);
  if (end.line > start.line) end = { line: start.line, character: doc.getText({ start, end: { line: start.line + 1, character: 0 } }).trimEnd().length + start.character };
  return { start, end };
}

export interface DiagnosticContext {
  uri: string;
  /** Text of the file when it is JSON. */
  text?: string;
  docs: DocsHref;
}

export function docFor(ctx: DiagnosticContext): TextDocument | undefined {
  return ctx.text === undefined ? undefined : TextDocument.create(ctx.uri, 'json', 0, ctx.text);
}

export function findingToDiagnostic(f: FindingSummary, model: ModelSummary | undefined, ctx: DiagnosticContext, doc = docFor(ctx)): Diagnostic {
  const range = rangeIn(doc, f.range);
  const d: Diagnostic = {
    range,
    severity: SEVERITY[f.severity] ?? DiagnosticSeverity.Warning,
    source: SOURCE,
    code: f.code,
    codeDescription: { href: ctx.docs(f.docs, f.code) },
    message: f.remedy ? `${f.message}\nRemedy: ${f.remedy}` : f.message,
    data: { code: f.code, layer: f.layer?.name, finding: f.data },
  };
  if (f.layer) d.relatedInformation = [layerRelated(f, model, ctx, doc)];
  return d;
}

/** The layer a finding names, as related information at its entry (the message: which layer it is). */
function layerRelated(f: FindingSummary, model: ModelSummary | undefined, ctx: DiagnosticContext, doc: TextDocument | undefined, detail = false): DiagnosticRelatedInformation {
  const layer = f.layer && model?.layers[f.layer.index];
  const what = f.layer ? `layer '${f.layer.name}' (#${f.layer.index}${layer ? `, ${layer.className}, output ${fmtShape(layer.outputShape)}` : ''})` : 'the model';
  return { location: { uri: ctx.uri, range: rangeIn(doc, layer?.jsonRange ?? f.range) }, message: detail ? `${what}: ${f.message}` : what };
}

/**
 * Findings in model order, those of one code about several layers of the same file put together (the
 * same padding warning on every convolution of a ResNet is one problem, not seven); a finding without
 * a layer stays alone.
 */
export function groupByCode(findings: FindingSummary[]): FindingSummary[][] {
  const out: FindingSummary[][] = [];
  const open = new Map<string, FindingSummary[]>();
  for (const f of findings) {
    if (!f.layer) {
      out.push([f]);
      continue;
    }
    const key = `${f.code}\0${f.file ?? ''}`;
    const group = open.get(key);
    if (group) group.push(f);
    else {
      const g = [f];
      open.set(key, g);
      out.push(g);
    }
  }
  return out;
}

/** Names listed in a grouped message before "and N more". */
const NAMES_SHOWN = 8;

/**
 * One diagnostic for findings of one code on several layers: at the first layer's place, with the most
 * severe severity, a message that says how many layers and which, and every layer (with its own message)
 * as related information. `data.layers` lists them all; `data.finding` is the first one's (code actions).
 */
export function groupToDiagnostic(group: FindingSummary[], model: ModelSummary | undefined, ctx: DiagnosticContext, doc = docFor(ctx)): Diagnostic {
  const [first] = group;
  if (group.length === 1) return findingToDiagnostic(first, model, ctx, doc);
  const names = group.map((f) => f.layer?.name ?? '?');
  const shown = names.length > NAMES_SHOWN ? `${names.slice(0, NAMES_SHOWN).join(', ')} and ${names.length - NAMES_SHOWN} more` : names.join(', ');
  const severity = Math.min(...group.map((f) => SEVERITY[f.severity] ?? DiagnosticSeverity.Warning)) as DiagnosticSeverity;
  const message = `${first.code} in ${group.length} layers (${shown}). First: ${first.message}`;
  return {
    range: rangeIn(doc, first.range),
    severity,
    source: SOURCE,
    code: first.code,
    codeDescription: { href: ctx.docs(first.docs, first.code) },
    message: first.remedy ? `${message}\nRemedy: ${first.remedy}` : message,
    data: { code: first.code, layer: first.layer?.name, layers: names, finding: first.data },
    relatedInformation: group.map((f) => layerRelated(f, model, ctx, doc, true)),
  };
}

export function loadErrorToDiagnostic(err: ProtocolError, ctx: DiagnosticContext): Diagnostic {
  const where = err.layer ? ` (layer '${err.layer}')` : '';
  const doc = docFor(ctx);
  let range = FILE_START;
  if (doc && err.layer) {
    // Point at the failing layer's name in a JSON model file when it is there.
    const at = doc.getText().indexOf(JSON.stringify(err.layer));
    if (at >= 0) range = rangeIn(doc, [at, at + JSON.stringify(err.layer).length]);
  }
  return {
    range,
    severity: DiagnosticSeverity.Error,
    source: SOURCE,
    code: LOAD_ERROR_CODE,
    codeDescription: { href: ctx.docs('', LOAD_ERROR_CODE) },
    message: `The model did not load: ${err.code}: ${err.message}${where}${err.hint ? `\nHint: ${err.hint}` : ''}`,
    data: { code: LOAD_ERROR_CODE, error: err },
  };
}

/**
 * A model's diagnostics: its load error or its static findings, then the relevance-map findings of the
 * last checkData; the disabled codes left out; findings of one code on several layers as one diagnostic.
 */
export function modelDiagnostics(model: ModelSummary, ctx: DiagnosticContext, disabled: string[] = [], mapFindings: FindingSummary[] = []): Diagnostic[] {
  const doc = docFor(ctx);
  const on = (code: string): boolean => !disabled.includes(code);
  const grouped = (fs: FindingSummary[]): Diagnostic[] => groupByCode(fs).map((g) => groupToDiagnostic(g, model, ctx, doc));
  const own =
    model.state === 'error' && model.error
      ? on(LOAD_ERROR_CODE) ? [loadErrorToDiagnostic(model.error, ctx)] : []
      : grouped(model.findings.filter((f) => on(f.code) && (f.file === model.file || !f.file)));
  return [...own, ...grouped(mapFindings.filter((f) => on(f.code)))];
}

/** A problem in lrp-lens.json at its key (at least one character long, so editors show it). */
export function projectIssueToDiagnostic(p: ProjectIssue, doc: TextDocument, docs: DocsHref): Diagnostic {
  return {
    range: offsetRange(doc, [p.range[0], Math.max(p.range[1], p.range[0] + 1)]),
    severity: p.severity === 'warning' ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error,
    source: SOURCE,
    code: p.code,
    codeDescription: { href: docs('', p.code) },
    message: p.message,
  };
}

/** The project file could not be read (too large, not a regular file, ...): one diagnostic at its start. */
export function uncheckedProjectDiagnostic(name: string, err: LensError, docs: DocsHref): Diagnostic {
  const at = { line: 0, character: 0 };
  return { range: { start: at, end: { line: 0, character: 1 } }, severity: DiagnosticSeverity.Error, source: SOURCE, code: err.code, codeDescription: { href: docs('', err.code) }, message: `${name} was not checked: ${err.message}` };
}

/** Markdown over [start, end) offsets of a document. */
export function markdownHover(doc: TextDocument, range: [number, number], markdown: string): Hover {
  return { contents: { kind: 'markdown', value: markdown }, range: offsetRange(doc, range) };
}

export function fmtShape(shape: (number | null)[]): string {
  return `(${shape.map((d) => (d === null ? 'None' : String(d))).join(', ')})`;
}
