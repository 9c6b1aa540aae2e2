/**
 * The one way the data readers open a file: only regular files are read. A path may name a device
 * (`/dev/zero` never ends), a FIFO (opening it blocks until a writer comes) or a symlink to either, so
 * the file is opened non-blocking, then the opened descriptor is checked with fstat (the target a
 * symlink resolves to, with no window between check and use), and its size comes from that fstat.
 */
import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { LensError } from '../errors.js';
import { checkBudget, type DataBudgetName } from './budget.js';

/** O_NONBLOCK where the platform has it (not on Windows, which has no FIFOs to hang on). */
const FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

export interface RegularFile {
  fh: FileHandle;
  size: number;
}

/** What a path is, for messages about paths that must be regular files. */
export function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return st.isFile() ? 'a regular file' : 'not a regular file';
}

/** Open `file` for reading; FILE_NOT_FOUND, or FORMAT_UNKNOWN when it is not a regular file. */
export async function openRegular(file: string): Promise<RegularFile> {
  let fh: FileHandle;
  try {
    fh = await open(file, FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new LensError('FILE_NOT_FOUND', `no such file: ${file}`, { file });
    throw new LensError('DATA_ERROR', `cannot open ${file}: ${(e as Error).message}`, { file });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new LensError('FORMAT_UNKNOWN', `${file} is ${fileKind(st)}: only regular files are read as data`, { file });
    return { fh, size: st.size };
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e;
  }
}

/** Check that `file` is a regular file (for libraries that open paths themselves); its size. */
export async function regularSize(file: string): Promise<number> {
  const { fh, size } = await openRegular(file);
  await fh.close();
  return size;
}

/** Bytes [offset, offset + length) of an open file; fewer only where the file ends. */
export async function readAt(fh: FileHandle, offset: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? buf : buf.subarray(0, done);
}

/** The whole of a regular file, its size (from fstat) checked against a budget before reading. */
export async function readRegular(file: string, budget: DataBudgetName = 'wholeFileBytes'): Promise<Uint8Array> {
  const { fh, size } = await openRegular(file);
  try {
    checkBudget(budget, size, `size of ${file} in bytes`, file);
    // Read what fstat said and no more: a file that grows meanwhile does not grow the read.
    return await readAt(fh, 0, size);
  } finally {
    await fh.close();
  }
}
