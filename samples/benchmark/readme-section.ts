/**
 * The benchmarks write their tables into docs/findings/README.md between their own marker comments: the
 * marked section is replaced (START through END, markers included in `section`), or appended when the
 * file has none yet, so the rest of the page keeps its text.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../../server/src/testing/paths.js';

export function writeFindingsSection(start: string, end: string, section: string): void {
  const readme = join(REPO, 'docs', 'findings', 'README.md');
  const text = readFileSync(readme, 'utf8');
  const i = text.indexOf(start), j = text.indexOf(end);
  writeFileSync(readme, i >= 0 && j > i ? text.slice(0, i) + section + text.slice(j + end.length) : `${text.trimEnd()}\n\n${section}\n`);
}
