/**
 * The panel's "Dates" field: samples picked by date where the data have a time axis, in the CLI's
 * words: '2015-12, 2016-01' (dates, ISO YYYY-MM or YYYY-MM-DD) or '2015-01:2016-06' (an inclusive
 * range). The server matches them to the time axis (core/session/samples.ts) and names its span when
 * one is not there; here only the form is checked, and the span the data offer is shown as a hint.
 */
import type { SampleSelection } from '../../server/src/protocol.js';

export type DateSelection = Pick<SampleSelection, 'dates' | 'timeRange'>;

const ISO = /^\d{4}-\d{2}(-\d{2})?$/;

/** The field's text as a selection: {} when empty, undefined when it is neither dates nor a range. */
export function parseDateField(text: string): DateSelection | undefined {
  const t = text.trim();
  if (t === '') return {};
  if (t.includes(':')) {
    const [from, to, ...rest] = t.split(':').map((s) => s.trim());
    if (rest.length || !ISO.test(from) || !ISO.test(to) || from > to.padEnd(from.length, '~')) return undefined;
    return { timeRange: `${from}:${to}` };
  }
  const dates = t.split(/[,\s]+/).filter((d) => d !== '');
  return dates.every((d) => ISO.test(d)) ? { dates } : undefined;
}

/** The field's hint: the time span the data offer (the plan's first and last time, else the shown result's), or the syntax. */
export function dateFieldHint(span: { first?: string; last?: string }): string {
  const month = (d: string) => d.slice(0, 7);
  if (span.first && span.last) return `${month(span.first)}:${month(span.last)} or ${month(span.last)}, …`;
  return 'YYYY-MM, … or FROM:TO';
}
