/**
 * Diagnostics on the project file (lrp-lens.json) at the offending key: the project validator (data
 * inputs) gives each problem with its range, syntax errors included.
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { SOURCE } from './diagnostics.js';

export const PROJECT_FILE = 'lrp-lens.json';

export async function projectDiagnostics(
  file: string,
  docs: (link: string, code: string) => string,
  inputShapeOf?: (modelFile: string) => (number | null)[] | undefined,
  openText?: string,
): Promise<Diagnostic[]> {
  let text: string;
  try {
    text = openText ?? (await readFile(file, 'utf8'));
  } catch {
    return [];
  }
  const doc = TextDocument.create(pathToFileURL(file).href, 'json', 0, text);
  // Loaded on first use: the checks pull in the data readers, which the protocol thread needs only here.
  const { validateProjectFile } = await import('./analyzer.js');
  const issues = await validateProjectFile(file, text, inputShapeOf).catch((e: Error) => [
    { range: [0, 1] as [number, number], message: `lrp-lens.json could not be checked: ${e.message}`, code: 'CONFIG_ERROR', severity: 'warning' as const },
  ]);
  return issues.map((p) => ({
    range: { start: doc.positionAt(p.range[0]), end: doc.positionAt(Math.max(p.range[1], p.range[0] + 1)) },
    severity: p.severity === 'warning' ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error,
    source: SOURCE,
    code: p.code,
    codeDescription: { href: docs('', p.code) },
    message: p.message,
  }));
}
