/** Minimal argv parsing shared by the CLI commands: positionals, --flag value, --flag=value, boolean flags. */
import { LensError } from '../core/errors.js';
import { COMPOSITE_NAMES, isCompositeName } from '../core/names.js';

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

/** `booleans` lists the flags that take no value. */
export function parseArgs(argv: string[], booleans: string[] = []): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) {
        flags.set(a.slice(2, eq), a.slice(eq + 1));
      } else {
        const name = a.slice(2);
        if (booleans.includes(name)) flags.set(name, true);
        else {
          if (i + 1 >= argv.length) throw new LensError('USAGE', `--${name} needs a value`);
          flags.set(name, argv[++i]);
        }
      }
    } else positional.push(a);
  }
  return { positional, flags };
}

export function flagString(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  if (v === true) throw new LensError('USAGE', `--${name} needs a value`);
  return v;
}

/** A decimal number as people type it (Number() also takes '' and ' ' as 0, and '0x1f'). */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A finite number, at least `min` when given. */
export function flagNumber(args: ParsedArgs, name: string, min?: number): number | undefined {
  const v = flagString(args, name);
  if (v === undefined) return undefined;
  const n = DECIMAL.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new LensError('USAGE', `--${name} must be a number, got '${v}'`);
  if (min !== undefined && n < min) throw new LensError('USAGE', `--${name} must be at least ${min}, got '${v}'`);
  return n;
}

/** A whole number in [min, max] (counts: workers, runs, batch sizes, samples). */
export function flagInt(args: ParsedArgs, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = flagString(args, name);
  if (v === undefined) return undefined;
  const n = /^[+-]?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new LensError('USAGE', `--${name} must be a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ' up'}, got '${v}'`);
  }
  return n;
}

export function requireFlag(args: ParsedArgs, name: string): string {
  const v = flagString(args, name);
  if (v === undefined) throw new LensError('USAGE', `--${name} is required`);
  return v;
}

/** A composite name (from --composite or a project's explain.composite): one of the list, compared as a string, never looked up. */
export function checkComposite(name: string, from: string): void {
  if (!isCompositeName(name)) throw new LensError('USAGE', `${from} must be one of ${COMPOSITE_NAMES.join(', ')}, got '${name}'`);
}
