/**
 * The server's result caches: a typed key (a record of what the result depends on), serialized in one
 * place, and the one eviction rule: past `max` entries the oldest goes.
 */
export class BoundedCache<K, V> {
  private readonly entries = new Map<string, V>();

  constructor(
    private readonly max: number,
    /** A canonical string of the key: equal keys give equal strings. */
    private readonly keyOf: (key: K) => string,
  ) {}

  get(key: K): V | undefined {
    return this.entries.get(this.keyOf(key));
  }

  set(key: K, value: V): void {
    this.entries.set(this.keyOf(key), value);
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
