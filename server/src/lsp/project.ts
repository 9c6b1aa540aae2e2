/**
 * Diagnostics on the project file (lrp-lens.json) at the offending key: the project validator (data
 * inputs) gives each problem with its range, syntax errors included.
 */
import { pathToFileURL } from 'node:url';
import type { Diagnostic } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { toLensError } from '../core/errors.js';
import { checkBudget } from '../core/data/budget.js';
import { readRegular } from '../core/data/regular-file.js';
import { projectIssueToDiagnostic, uncheckedProjectDiagnostic, type DocsHref } from './convert.js';

export const PROJECT_FILE = 'lrp-lens.json';

export interface ProjectCheckOptions {
  /** Open the data files it names (false in an untrusted workspace: structure and paths only). */
  checkData?: boolean;
}

/**
 * The project file's diagnostics. Its size is checked against the `projectBytes` budget before it is
 * read or parsed (a 15 MB file cost 2 GB to parse on every edit); only a regular file is read.
 */
export async function projectDiagnostics(
  file: string,
  docs: DocsHref,
  inputShapeOf?: (modelFile: string) => (number | null)[] | undefined,
  openText?: string,
  opts: ProjectCheckOptions = {},
): Promise<Diagnostic[]> {
  let text: string;
  try {
    if (openText !== undefined) checkBudget('projectBytes', Buffer.byteLength(openText), `size of ${PROJECT_FILE} in bytes`, file);
    text = openText ?? new TextDecoder().decode(await readRegular(file, 'projectBytes'));
  } catch (e) {
    const err = toLensError(e, file);
    if (err.code === 'FILE_NOT_FOUND') return [];
    return [uncheckedProjectDiagnostic(PROJECT_FILE, err, docs)];
  }
  const doc = TextDocument.create(pathToFileURL(file).href, 'json', 0, text);
  // Loaded on first use: the checks pull in the data readers, which the protocol thread needs only here.
  const { validateProjectFile } = await import('./analyzer.js');
  const issues = await validateProjectFile(file, text, inputShapeOf, opts.checkData !== false).catch((e: Error) => [
    { range: [0, 1] as [number, number], message: `lrp-lens.json could not be checked: ${e.message}`, code: 'CONFIG_ERROR', severity: 'warning' as const },
  ]);
  return issues.map((p) => projectIssueToDiagnostic(p, doc, docs));
}
