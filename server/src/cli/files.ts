/**
 * Where the CLI writes: an --out path must be a regular file or a new name in an existing folder, never a
 * folder, device, FIFO or socket (writing to a FIFO blocks until a reader comes; to a device it never ends
 * or goes nowhere). Symlinks are judged by their target. What the CLI reads goes through the data readers'
 * openRegular/readRegular (core/data/regular-file.ts), which refuse the same kinds of file.
 */
import { stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LensError } from '../core/errors.js';
import { fileKind } from '../core/data/regular-file.js';

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') throw new LensError('FILE_NOT_FOUND', `${path}: a part of the path is not a folder`, { file: path });
    throw new LensError('BAD_INPUT', `cannot use ${path}: ${(e as Error).message}`, { file: path });
  }
}

/** Check an output file path (`flag` names the option in messages): a regular file to replace, or a new file in an existing folder. */
export async function outputFile(path: string, flag: string): Promise<string> {
  const st = await statOrUndefined(path);
  if (st && !st.isFile()) throw new LensError('BAD_INPUT', `${flag} ${path} is ${fileKind(st)}: give the path of a file to write`, { file: path });
  if (!st) {
    const dir = dirname(resolve(path));
    const d = await statOrUndefined(dir);
    if (!d) throw new LensError('FILE_NOT_FOUND', `${flag} ${path}: the folder ${dir} does not exist`, { file: path });
    if (!d.isDirectory()) throw new LensError('BAD_INPUT', `${flag} ${path}: ${dir} is ${fileKind(d)}, not a folder`, { file: path });
  }
  return path;
}

/** Check an output folder: a folder, or a name that does not exist yet (the command creates it). */
export async function outputFolder(path: string, flag: string): Promise<string> {
  const st = await statOrUndefined(path);
  if (st && !st.isDirectory()) throw new LensError('BAD_INPUT', `${flag} ${path} is ${fileKind(st)}: give a folder`, { file: path });
  return path;
}
