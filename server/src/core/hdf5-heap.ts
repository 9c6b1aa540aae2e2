/**
 * A memory budget for the HDF5 library (h5wasm). Its wasm heap only grows, and keeps what it grew. A
 * damaged length in a file (a variable-length string whose 4-byte length gained a high bit, a chunk
 * that declares gigabytes) makes HDF5 malloc that much and write to it: seconds of CPU and a gigabyte
 * the process keeps for good. So each HDF5 operation runs with a budget, and growth past it is
 * refused: the allocation fails inside HDF5, which then fails the read with an error the reader turns
 * into a LensError. Used by the Keras HDF5 loaders and the NetCDF-4 reader (one h5wasm module).
 */

/** Headroom for HDF5's own caches and buffers on top of an operation's declared data. */
export const HEAP_SLACK = 32 * 1024 * 1024;

let heap: { HEAPU8: Uint8Array } | undefined;
let top = Infinity;
let refused: number | undefined;

/**
 * Emscripten grows its heap with WebAssembly.Memory.prototype.grow (h5wasm does not export the Memory
 * object), so the prototype method is wrapped once; only the h5wasm heap, found by its buffer, is checked.
 */
export function guardHeap(mod: { HEAPU8: Uint8Array }): void {
  heap = mod;
  const proto = WebAssembly.Memory.prototype as WebAssembly.Memory & { lrpLensGuarded?: boolean };
  if (proto.lrpLensGuarded) return;
  const grow = proto.grow;
  proto.grow = function (this: WebAssembly.Memory, pages: number): number {
    const want = this.buffer.byteLength + pages * 65536;
    if (heap && this.buffer === heap.HEAPU8.buffer && want > top) {
      refused = Math.max(refused ?? 0, want);
      throw new RangeError(`HDF5 heap budget of ${top} bytes exceeded`);
    }
    return grow.call(this, pages);
  };
  proto.lrpLensGuarded = true;
}

/** Run `fn` with the HDF5 heap allowed to grow by at most `bytes` (a nested budget may be larger: a read whose size the caller checked). */
export function withHeapBudget<T>(bytes: number, fn: () => T): T {
  const before = top;
  top = (heap?.HEAPU8.length ?? 0) + bytes;
  refused = undefined;
  try {
    return fn();
  } finally {
    top = before;
  }
}

/** What reading a file's structure and attributes may take: HDF5's caches plus twice the file (an attribute is never longer than the file that holds it). */
export function metadataHeap(fileSize: number): number {
  return HEAP_SLACK + 2 * fileSize;
}

/**
 * The cause to put in an error when the operation that failed had a growth refused ("reading it asks
 * for 1091 MiB of memory, …"); undefined otherwise. Reading it clears it.
 */
export function refusalCause(fileSize: number): string | undefined {
  const r = refused;
  refused = undefined;
  if (r === undefined) return undefined;
  return `reading it asks for ${(r / 2 ** 20).toFixed(0)} MiB of memory, far more than a ${fileSize}-byte file can need (a damaged length or size field)`;
}
