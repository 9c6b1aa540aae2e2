/**
 * Samples by date, the one parser explain, check and report share: --dates 2015-12,2016-01 (ISO YYYY-MM
 * or YYYY-MM-DD, each matched to the data's time axis) and --time 2015-01:2016-06 (an inclusive range).
 * Checked here, before any file is read; resolved against the data's times in the session
 * (core/session/samples.ts), which names the axis's span when a date is not there.
 */
import { LensError } from '../core/errors.js';
import { parseDates, parseTimeRange, type SampleSelection } from '../core/session/samples.js';
import { flagString, type ParsedArgs } from './args.js';

export const DATE_FLAG_NAMES = ['dates', 'time'];

export const DATE_FLAGS_USAGE = '[--dates YYYY-MM[,YYYY-MM...]] [--time FROM:TO]';

export type DateSelection = Pick<SampleSelection, 'dates' | 'timeRange'>;

/** A parser's message with the flag it came from. */
function named<T>(flag: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof LensError) throw new LensError('USAGE', `--${flag}: ${e.message}`);
    throw e;
  }
}

export function dateFlags(args: ParsedArgs): DateSelection {
  const out: DateSelection = {};
  const dates = flagString(args, 'dates');
  if (dates !== undefined) out.dates = named('dates', () => parseDates(dates.split(',').filter((d) => d.trim() !== '')));
  const time = flagString(args, 'time');
  if (time !== undefined) {
    named('time', () => parseTimeRange(time));
    out.timeRange = time;
  }
  return out;
}

/** Whether the flags name any date. */
export function hasDates(d: DateSelection): boolean {
  return (d.dates?.length ?? 0) > 0 || d.timeRange !== undefined;
}
