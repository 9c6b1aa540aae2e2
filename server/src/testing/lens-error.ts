/** For tests of refusals: the LensError code a promise rejects with. */
import assert from 'node:assert/strict';
import { LensError } from '../core/errors.js';

/** The code of the LensError `p` rejects with, or 'no error'; any other error fails the test. */
export async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof LensError, `not a LensError: ${e}`);
    return e.code;
  }
  return 'no error';
}
