/**
 * Glob patterns (the subset VS Code settings use: `**`, `*`, `?`, `{a,b}`, `[...]`) compiled to RegExps
 * and matched against workspace-relative paths with forward slashes. Own code rather than a dependency:
 * it is twenty lines and the server bundle stays small.
 */

export function globToRegExp(glob: string): RegExp {
  let re = '';
  let inGroup = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` matches zero or more directories; a trailing `**` matches everything below.
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:[^/]*/)*';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '{') {
      inGroup++;
      re += '(?:';
    } else if (c === '}' && inGroup > 0) {
      inGroup--;
      re += ')';
    } else if (c === ',' && inGroup > 0) re += '|';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^$()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** A set of include and exclude globs over workspace-relative paths. */
export class GlobSet {
  private readonly include: RegExp[];
  private readonly exclude: RegExp[];

  constructor(include: string[], exclude: string[]) {
    this.include = include.map(globToRegExp);
    this.exclude = exclude.map(globToRegExp);
  }

  /** `rel`: path relative to the workspace folder, '/' separators. */
  matches(rel: string): boolean {
    return this.include.some((r) => r.test(rel)) && !this.excluded(rel);
  }

  excluded(rel: string): boolean {
    return this.exclude.some((r) => r.test(rel));
  }

  /** Whether a directory can be skipped entirely (it is excluded as `dir/**`). */
  excludesDir(relDir: string): boolean {
    return this.exclude.some((r) => r.test(relDir + '/') || r.test(relDir + '/\u0000'));
  }
}
