/**
 * Budgets of the data readers: upper bounds on the work a data file (or lrp-lens.json) may ask for,
 * checked before the work is done. A guard on one quantity misses its products (members x size, records x
 * steps, columns x rows), so each budget bounds a product. Values and reasons: docs/security.md.
 */
import { LensError } from '../errors.js';

export const DATA_BUDGET = {
  /** Bytes of a file read whole into memory (.npz, CSV, index text, images handed to the decoder). */
  wholeFileBytes: 1024 * 1024 * 1024,
  /** Bytes of CSV or index text (parsed into strings, which cost several times their size). */
  textBytes: 64 * 1024 * 1024,
  /** Cells (rows x columns) of one CSV file. */
  csvCells: 16 * 1024 * 1024,
  /** Variables, columns or .npz members listed for one file. */
  variables: 10_000,
  /** Bytes a .npz may inflate over the life of one opened source (headers and members together). */
  inflatedBytes: 1024 * 1024 * 1024,
  /** Bytes of a .npy header (NumPy itself refuses more than 10 000 by default). */
  npyHeaderBytes: 65_536,
  /** Rank of an array declared by a header. */
  rank: 64,
  /** Contiguous runs one hyperslab read may visit (each a loop step, a copy, maybe a syscall). */
  slabRuns: 64 * 1024 * 1024,
  /** Bytes of lrp-lens.json (a real one is a few KB). */
  projectBytes: 1024 * 1024,
} as const;

export type DataBudgetName = keyof typeof DATA_BUDGET;

/** The error for work over a budget, naming the budget, its value and what was asked. */
export function overBudget(budget: string, limit: number, asked: number | string, what: string, file?: string): LensError {
  return new LensError('BUDGET_EXCEEDED', `${what}: ${asked}, over the ${budget} budget of ${limit}`, { file });
}

/** Throw BUDGET_EXCEEDED when `asked` passes DATA_BUDGET[name]. */
export function checkBudget(name: DataBudgetName, asked: number, what: string, file?: string): void {
  const limit = DATA_BUDGET[name];
  if (!(asked <= limit)) throw overBudget(name, limit, asked, what, file);
}
