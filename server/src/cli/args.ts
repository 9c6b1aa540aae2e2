/** Minimal argv parsing shared by the CLI commands: positionals, --flag value, --flag=value, boolean flags. */
import { LensError } from '../core/errors.js';

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

export function flagNumber(args: ParsedArgs, name: string): number | undefined {
  const v = flagString(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new LensError('USAGE', `--${name} must be a number, got '${v}'`);
  return n;
}

export function requireFlag(args: ParsedArgs, name: string): string {
  const v = flagString(args, name);
  if (v === undefined) throw new LensError('USAGE', `--${name} is required`);
  return v;
}
