/** Run the CLI in-process for a test, capturing what it writes to stdout (stderr is dropped). */
import { main } from '../cli.js';

export async function runCli(args: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const errWrite = process.stderr.write.bind(process.stderr);
  // The CLI writes strings; node's test runner reports to the parent as binary chunks: let those through.
  process.stdout.write = ((c: string | Uint8Array, ...rest: unknown[]) =>
    typeof c === 'string' ? (chunks.push(c), true) : (write as (...a: unknown[]) => boolean)(c, ...rest)) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, out: chunks.join('') };
  } finally {
    process.stdout.write = write;
    process.stderr.write = errWrite;
  }
}
