/**
 * Findings and load errors as LSP diagnostics. JSON files (model.json, Keras to_json, lrp-lens.json):
 * at the character range the finding names; binary files: at the start of the file.
 */
import { DiagnosticSeverity, type Diagnostic, type DiagnosticRelatedInformation, type Range } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { FindingSummary, ModelSummary, ProtocolError } from '../protocol.js';

export const SOURCE = 'lrp-lens';
/** The code of "this model did not load" (one diagnostic carrying the structured error). */
export const LOAD_ERROR_CODE = 'LRP100';

const SEVERITY: Record<FindingSummary['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

const FILE_START: Range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

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
  /** Maps a finding's docs link to the one to show (e.g. the bundled page). */
  docs: (link: string, code: string) => string;
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
  if (f.layer) {
    const layer = model?.layers[f.layer.index];
    const related: DiagnosticRelatedInformation = {
      location: { uri: ctx.uri, range: rangeIn(doc, layer?.jsonRange ?? f.range) },
      message: `layer '${f.layer.name}' (#${f.layer.index}${layer ? `, ${layer.className}, output ${fmtShape(layer.outputShape)}` : ''})`,
    };
    d.relatedInformation = [related];
  }
  return d;
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

export function modelDiagnostics(model: ModelSummary, ctx: DiagnosticContext, disabled: string[] = []): Diagnostic[] {
  if (model.state === 'error' && model.error) return disabled.includes(LOAD_ERROR_CODE) ? [] : [loadErrorToDiagnostic(model.error, ctx)];
  const doc = docFor(ctx);
  return model.findings
    .filter((f) => !disabled.includes(f.code) && (f.file === model.file || !f.file))
    .map((f) => findingToDiagnostic(f, model, ctx, doc));
}

export function fmtShape(shape: (number | null)[]): string {
  return `(${shape.map((d) => (d === null ? 'None' : String(d))).join(', ')})`;
}
