/**
 * Glob patterns (the subset VS Code settings use: `**`, `*`, `?`, `{a,b}`, `[...]`) matched against
 * paths with forward slashes: workspace-relative ones for the language server's model globs, whole
 * ones for lrp-lens.json model paths. One matcher for both. Matched by a set-of-states simulation (time linear in
 * path length x pattern length), not by a RegExp: `**` compiled to nested quantifiers backtracks
 * exponentially on a long name (a pattern of many `**` froze the server for 40 s).
 */

/** Alternatives one pattern may expand to through `{a,b}` groups (`{a,b}{c,d}...` grows as 2^k). */
export const GLOB_MAX_ALTERNATIVES = 256;
/** Longest pattern accepted (characters). */
export const GLOB_MAX_LENGTH = 1024;

type Token =
  | { t: 'char'; c: string }
  | { t: 'one' } // ?
  | { t: 'class'; re: RegExp } // [...]
  | { t: 'star' } // * within one path segment
  | { t: 'any' } // trailing ** : anything, slashes included
  | { t: 'dirs' }; // **/ : zero or more whole folders

/** A compiled pattern: `test(rel)` in O(rel.length x pattern length). */
export interface GlobMatcher {
  readonly source: string;
  test(rel: string): boolean;
}

/** Why a pattern is refused (it escapes the workspace folder, or is too large), or undefined. */
export function globProblem(glob: string): string | undefined {
  if (typeof glob !== 'string') return 'a pattern must be a string';
  if (glob.length > GLOB_MAX_LENGTH) return `a pattern is limited to ${GLOB_MAX_LENGTH} characters`;
  // Patterns are relative to the workspace folder and stay inside it.
  const alternatives = expandBraces(glob);
  if (alternatives.length > GLOB_MAX_ALTERNATIVES) return `'${glob}' expands to more than ${GLOB_MAX_ALTERNATIVES} alternatives`;
  if (alternatives.some((g) => /^([/\\]|[A-Za-z]:)/.test(g) || g.split(/[/\\]/).includes('..'))) {
    return `'${glob}' leaves the workspace folder (patterns are relative to it, without '..')`;
  }
  return undefined;
}

/** `{a,b}` groups (nested too) expanded, stopping past GLOB_MAX_ALTERNATIVES. */
function expandBraces(glob: string): string[] {
  let depth = 0;
  let open = -1;
  const commas: number[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end > 0) i = end;
    } else if (c === '{') {
      if (depth++ === 0) open = i;
    } else if (c === '}' && depth > 0) {
      if (--depth === 0) {
        const head = glob.slice(0, open);
        const tail = glob.slice(i + 1);
        const bounds = [open, ...commas, i];
        const out: string[] = [];
        for (let k = 0; k + 1 < bounds.length; k++) {
          for (const rest of expandBraces(glob.slice(bounds[k] + 1, bounds[k + 1]) + tail)) {
            out.push(head + rest);
            if (out.length > GLOB_MAX_ALTERNATIVES) return out;
          }
        }
        return out;
      }
    } else if (c === ',' && depth === 1) commas.push(i);
  }
  return [glob];
}

function tokenize(glob: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      let j = i;
      while (glob[j + 1] === '*') j++;
      const atSegmentStart = i === 0 || glob[i - 1] === '/';
      if (j > i && atSegmentStart && glob[j + 1] === '/') {
        if (out.at(-1)?.t !== 'dirs') out.push({ t: 'dirs' });
        i = j + 1;
      } else if (j > i && atSegmentStart && j + 1 === glob.length) {
        out.push({ t: 'any' });
        i = j;
      } else {
        if (out.at(-1)?.t !== 'star') out.push({ t: 'star' });
        i = j;
      }
    } else if (c === '?') out.push({ t: 'one' });
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      let re: RegExp | undefined;
      if (end > i + 1) {
        let body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = '^' + body.slice(1);
        try {
          re = new RegExp(`^[${body}]$`); // one character class: no backtracking
        } catch {
          re = undefined;
        }
      }
      if (re) {
        out.push({ t: 'class', re });
        i = end;
      } else out.push({ t: 'char', c });
    } else out.push({ t: 'char', c });
  }
  return out;
}

/** Whether `s` matches the token list (Thompson-style simulation over pattern positions). */
function simulate(tokens: Token[], s: string): boolean {
  const m = tokens.length;
  let cur = new Uint8Array(m + 1);
  let next = new Uint8Array(m + 1);
  // `**/` positions kept without entering what follows (merged after the enters, which chain).
  const hold = new Uint8Array(m + 1);
  // Entering a position whose token may match nothing also enters the one after it.
  const enter = (set: Uint8Array, pos: number): void => {
    while (pos <= m && !set[pos]) {
      set[pos] = 1;
      const tk = tokens[pos];
      if (!tk || (tk.t !== 'star' && tk.t !== 'any' && tk.t !== 'dirs')) return;
      pos++;
    }
  };
  enter(cur, 0);
  for (let k = 0; k < s.length; k++) {
    const c = s[k];
    next.fill(0);
    hold.fill(0);
    let alive = false;
    for (let pos = 0; pos < m; pos++) {
      if (!cur[pos]) continue;
      const tk = tokens[pos];
      switch (tk.t) {
        case 'char':
          if (c === tk.c) enter(next, pos + 1);
          break;
        case 'one':
          if (c !== '/') enter(next, pos + 1);
          break;
        case 'class':
          if (c !== '/' && tk.re.test(c)) enter(next, pos + 1);
          break;
        case 'star':
          if (c !== '/') enter(next, pos);
          break;
        case 'any':
          enter(next, pos);
          break;
        case 'dirs':
          // Inside the skipped folders; a '/' ends one, after which the rest of the pattern may start.
          if (c === '/') enter(next, pos);
          else hold[pos] = 1;
          break;
      }
    }
    for (let pos = 0; pos <= m; pos++) {
      next[pos] |= hold[pos];
      if (next[pos]) alive = true;
    }
    if (!alive) return false;
    [cur, next] = [next, cur];
  }
  return cur[m] === 1;
}

/** Compiles a workspace pattern; one that globProblem refuses (it leaves the folder, or is too large) matches nothing. */
export function compileGlob(glob: string): GlobMatcher {
  if (globProblem(glob)) return { source: String(glob), test: () => false };
  return compilePathGlob(glob);
}

/**
 * Compiles a pattern over whole paths (lrp-lens.json model globs, resolved against the project folder
 * before matching, so absolute). The walk that lists candidates confines where they come from; this only
 * bounds the pattern's size. An oversized pattern matches nothing.
 */
export function compilePathGlob(glob: string): GlobMatcher {
  if (typeof glob !== 'string' || glob.length > GLOB_MAX_LENGTH) return { source: String(glob), test: () => false };
  const expanded = expandBraces(glob);
  if (expanded.length > GLOB_MAX_ALTERNATIVES) return { source: glob, test: () => false };
  const alternatives = expanded.map(tokenize);
  return { source: glob, test: (path) => alternatives.some((t) => simulate(t, path)) };
}

/** A set of include and exclude globs over workspace-relative paths. */
export class GlobSet {
  private readonly include: GlobMatcher[];
  private readonly exclude: GlobMatcher[];

  constructor(include: string[], exclude: string[]) {
    this.include = include.map(compileGlob);
    this.exclude = exclude.map(compileGlob);
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
