/** Where the time of the last render went (ms), for the render-time report in the browser test. */
export const phases: Record<string, number> = {};

export function timed<T>(name: string, f: () => T): T {
  const t = performance.now();
  try {
    return f();
  } finally {
    phases[name] = Number(((phases[name] ?? 0) + performance.now() - t).toFixed(1));
  }
}

export function resetPhases(): void {
  for (const k of Object.keys(phases)) delete phases[k];
}
