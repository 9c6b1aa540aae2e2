/**
 * Lists the longest functions and files of the TypeScript sources (tests excluded), for keeping units
 * small: `npx tsx scripts/unit-sizes.ts [--most N]`. Reads the files with the TypeScript parser, so
 * nested functions count on their own and an arrow function assigned to a name gets that name.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const ROOTS = ['server/src', 'client/src', 'webview/src', 'samples/scripts', 'scripts'];
const most = Number(process.argv[process.argv.indexOf('--most') + 1]) || 15;

interface Unit {
  where: string;
  name: string;
  lines: number;
}

function nameOf(node: ts.Node): string {
  if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) && node.name) return node.name.getText();
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const p = node.parent;
  if (p && ts.isVariableDeclaration(p)) return p.name.getText();
  if (p && ts.isPropertyAssignment(p)) return p.name.getText();
  return '(anonymous)';
}

/** Source files under `dir` (no symlinks followed: tests leave loops behind). */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return d.name === 'fixtures' || d.name === 'node_modules' ? [] : sources(p);
    return d.isFile() && d.name.endsWith('.ts') && !d.name.endsWith('.test.ts') && !d.name.endsWith('.d.ts') ? [p] : [];
  });
}

const files = ROOTS.flatMap(sources);
const units: Unit[] = [];
const fileSizes: Unit[] = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  fileSizes.push({ where: relative('.', file), name: '', lines: sf.getLineAndCharacterOfPosition(text.length).line + 1 });
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart()).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      units.push({ where: `${relative('.', file)}:${start + 1}`, name: nameOf(node), lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}
const top = (list: Unit[]): string => list.sort((a, b) => b.lines - a.lines).slice(0, most).map((u) => `${String(u.lines).padStart(5)}  ${u.where}${u.name ? `  ${u.name}` : ''}`).join('\n');
process.stdout.write(`longest functions (lines)\n${top(units)}\n\nlongest files (lines)\n${top(fileSizes)}\n`);
