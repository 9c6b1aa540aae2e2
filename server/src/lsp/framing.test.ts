import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FramingGuard } from './framing.js';

const frame = (body: string, extra = '') => `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

/** What the guard passes on when fed `input` in chunks of the given sizes (cycled), and what it skipped. */
async function through(input: Buffer, sizes: number[]): Promise<{ out: string; skipped: string[] }> {
  const skipped: string[] = [];
  const g = new FramingGuard((bytes, why) => skipped.push(`${bytes}:${why}`));
  const parts: Buffer[] = [];
  g.on('data', (d: Buffer) => parts.push(d));
  for (let at = 0, k = 0; at < input.length; k++) {
    const n = sizes[k % sizes.length];
    g.write(input.subarray(at, at + n));
    at += n;
  }
  g.end();
  await new Promise((r) => g.on('end', r));
  return { out: Buffer.concat(parts).toString('utf8'), skipped };
}

test('well-framed messages pass unchanged, however the input is split (a byte at a time included)', async () => {
  const bodies = ['{"jsonrpc":"2.0","id":1,"method":"a"}', '{"jsonrpc":"2.0","method":"b","params":{"t":"Content-Length: 5\\r\\n\\r\\n"}}', `{"x":"${'é'.repeat(70_000)}"}`];
  const input = bodies.map((b, i) => frame(b, i === 1 ? 'Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n' : '')).join('');
  for (const sizes of [[1], [7, 3, 1000], [65_536], [input.length]]) {
    const { out, skipped } = await through(Buffer.from(input), sizes);
    assert.equal(out, input, `chunks ${sizes}`);
    assert.deepEqual(skipped, []);
  }
});

test('malformed headers and bodies are skipped to the next header; the messages after them pass', async () => {
  const good = frame('{"jsonrpc":"2.0","id":2,"method":"ok"}');
  const bad = ['garbage header line\r\n\r\n', 'Foo: bar\r\n\r\n', 'Content-Length: abc\r\n\r\n', 'Content-Length: 99999999999\r\n\r\n', 'Content-Length: 5\r\n\r\n{{{{{', 'Content-Length: 60\r\n\r\n{"jsonrpc":"2.0"}', '\u0000\u00ff\r\n\u0001'];
  for (const b of bad) {
    for (const sizes of [[1], [b.length], [5, 11]]) {
      const { out, skipped } = await through(Buffer.from(b + good + good, 'latin1'), sizes);
      assert.equal(out, good + good, `${JSON.stringify(b)} in chunks ${sizes}`);
      assert.ok(skipped.length > 0, JSON.stringify(b));
    }
  }
});
