/** "Did you mean" suggestions for mistyped names (variables, dims, keys). */

function distance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[n];
}

/** The closest candidate (case-insensitive edit distance), if it is close enough to be a typo. */
export function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const lower = name.toLowerCase();
  for (const c of candidates) {
    const d = c.toLowerCase() === lower ? 0 : distance(lower, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  const limit = Math.max(2, Math.floor(name.length / 3));
  return best !== undefined && bestD <= limit ? best : undefined;
}

/** " Did you mean 'x'?" or a list of what exists, for error messages. */
export function suggest(name: string, candidates: string[], what = 'variables'): string {
  const c = closest(name, candidates);
  if (c !== undefined) return ` Did you mean '${c}'?`;
  const list = candidates.slice(0, 12).join(', ');
  return candidates.length ? ` Available ${what}: ${list}${candidates.length > 12 ? ', ...' : ''}.` : '';
}
