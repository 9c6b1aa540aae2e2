/**
 * The lrpLens.* settings as the client sends them, checked key by key: a wrong-typed value (e.g.
 * `workers: "abc"`, which gave zero workers and a silent server) falls back to its default and is named
 * in the problems the server shows the user.
 */
import { DEFAULT_SETTINGS, type LensSettings } from '../protocol.js';
import { globProblem } from '../core/glob.js';
import { BACKEND_NAMES, COMPOSITE_NAMES, isBackendName, isCompositeName } from '../core/names.js';

/** Bounds of the numeric settings (package.json states the same minimums). */
export const SETTING_BOUNDS = {
  workers: [1, 8],
  memoryLimitMB: [256, 65536],
  maxFileSizeMB: [1, 65536],
} as const;

export interface CheckedSettings {
  settings: LensSettings;
  /** One line per value that was refused, saying what was used instead. */
  problems: string[];
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
};

/** `raw` layered over `base` (defaults, then initializationOptions), each key checked. */
export function checkSettings(raw: unknown, base: LensSettings = DEFAULT_SETTINGS): CheckedSettings {
  const out: LensSettings = { ...base };
  const problems: string[] = [];
  if (raw === undefined || raw === null) return { settings: out, problems };
  if (typeof raw !== 'object' || Array.isArray(raw)) return { settings: out, problems: [`lrpLens settings must be an object (got ${show(raw)}); using the defaults`] };
  const r = raw as Record<string, unknown>;
  const refuse = (key: keyof LensSettings, why: string): void => {
    problems.push(`lrpLens.${key}: ${why} (got ${show(r[key])}); using ${show(base[key])}`);
  };
  const has = (key: keyof LensSettings): boolean => r[key] !== undefined && r[key] !== null;

  for (const key of ['modelGlobs', 'exclude', 'disabledChecks'] as const) {
    if (!has(key)) continue;
    const v = r[key];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
      refuse(key, 'must be a list of strings');
      continue;
    }
    if (key === 'disabledChecks') {
      out[key] = [...(v as string[])];
      continue;
    }
    const good: string[] = [];
    for (const g of v as string[]) {
      const why = globProblem(g);
      if (why) problems.push(`lrpLens.${key}: ${why}; left out`);
      else good.push(g);
    }
    out[key] = good;
  }
  for (const key of ['workers', 'memoryLimitMB', 'maxFileSizeMB'] as const) {
    if (!has(key)) continue;
    const v = r[key];
    const [lo, hi] = SETTING_BOUNDS[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) refuse(key, 'must be a number');
    else if (key === 'workers' && !Number.isInteger(v)) refuse(key, 'must be a whole number');
    else if (v < lo || v > hi) refuse(key, `must be between ${lo} and ${hi}`);
    else out[key] = v;
  }
  if (has('composite')) {
    if (isCompositeName(r.composite)) out.composite = r.composite;
    else refuse('composite', `must be one of ${COMPOSITE_NAMES.join(', ')}`);
  }
  if (has('backend')) {
    if (isBackendName(r.backend)) out.backend = r.backend;
    else refuse('backend', `must be one of ${BACKEND_NAMES.join(', ')}`);
  }
  if (has('compositeParams')) {
    const v = r.compositeParams;
    if (typeof v !== 'object' || Array.isArray(v) || Object.values(v as object).some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
      refuse('compositeParams', 'must map parameter names to numbers');
    } else out.compositeParams = { ...(v as Record<string, number>) };
  }
  return { settings: out, problems };
}
