/**
 * A guard in front of the JSON-RPC reader on stdio: it passes on well-framed messages and skips
 * malformed ones to the next `Content-Length:` header. vscode-jsonrpc's reader, given a header line
 * without ':' or without a number, reports an error and stops delivering messages for good; a client's
 * one bad write must not silence the server.
 */
import { Transform, type TransformCallback } from 'node:stream';

/** Largest message body accepted (bytes); a larger Content-Length is taken as a malformed header. */
export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;
/** Longest header block looked at before it is judged malformed. */
const MAX_HEADER_BYTES = 8192;
const HEADER_END = Buffer.from('\r\n\r\n');
const LENGTH_KEY = /content-length/i;

/** Where the next `Content-Length` header starts at or after `from`, or -1. */
function nextHeader(buf: Buffer, from: number): number {
  for (let i = from; ; ) {
    const at = buf.indexOf('ontent-', i, 'latin1');
    if (at < 0) return -1;
    const start = at - 1;
    if (start >= from && LENGTH_KEY.test(buf.toString('latin1', start, Math.min(buf.length, start + 14)))) return start;
    i = at + 1;
  }
}

/** Content-Length of a header block, or undefined when the block is malformed. */
function parseHeader(block: string): number | undefined {
  let length: number | undefined;
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    if (line.slice(0, colon).trim().toLowerCase() === 'content-length') {
      const v = line.slice(colon + 1).trim();
      if (!/^\d{1,10}$/.test(v)) return undefined;
      length = Number(v);
    }
  }
  return length !== undefined && length <= MAX_MESSAGE_BYTES ? length : undefined;
}

/** A body that cannot be one JSON-RPC message (the header's length was wrong): not `{...}` or `[...]`. */
function implausible(body: Buffer): boolean {
  const space = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
  let i = 0;
  let j = body.length - 1;
  while (i <= j && space(body[i])) i++;
  while (j >= i && space(body[j])) j--;
  if (i > j) return true;
  return !((body[i] === 0x7b && body[j] === 0x7d) || (body[i] === 0x5b && body[j] === 0x5d));
}

export class FramingGuard extends Transform {
  private buf = Buffer.alloc(0);
  /** Chunks not yet joined to `buf` while a body of known length is still arriving (joined once). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private needed = 0;

  constructor(private readonly onSkip: (bytes: number, why: string) => void) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.buf.length + this.pendingBytes >= this.needed) {
      this.buf = Buffer.concat([this.buf, ...this.pending]);
      this.pending = [];
      this.pendingBytes = 0;
      this.needed = 0;
      this.drain();
    }
    done();
  }

  private skipTo(at: number, why: string): void {
    const to = at < 0 ? Math.max(0, this.buf.length - 15) : at; // keep a tail that may start a header
    if (to > 0) this.onSkip(to, why);
    this.buf = this.buf.subarray(to);
  }

  private drain(): void {
    for (;;) {
      const end = this.buf.indexOf(HEADER_END);
      if (end < 0) {
        if (this.buf.length > MAX_HEADER_BYTES) this.skipTo(nextHeader(this.buf, 1), 'no header end');
        return;
      }
      const length = parseHeader(this.buf.toString('latin1', 0, end));
      if (length === undefined) {
        this.skipTo(nextHeader(this.buf, 1), 'malformed header');
        if (this.buf.indexOf(HEADER_END) < 0 || nextHeader(this.buf, 0) !== 0) return;
        continue;
      }
      const start = end + HEADER_END.length;
      if (this.buf.length < start + length) {
        this.needed = start + length; // the rest of the body is still coming
        return;
      }
      const body = this.buf.subarray(start, start + length);
      if (implausible(body)) {
        // The length did not fit the body: start again at the next header inside it.
        this.skipTo(nextHeader(this.buf, start), 'body does not fit its Content-Length');
        if (nextHeader(this.buf, 0) !== 0) return;
        continue;
      }
      this.push(this.buf.subarray(0, start + length));
      this.buf = this.buf.subarray(start + length);
    }
  }
}
