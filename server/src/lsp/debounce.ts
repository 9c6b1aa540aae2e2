/** One pending timer per key: a newer call for the same key replaces the older one. */
export class Debouncer {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  run(key: string, delayMs: number, fn: () => void): void {
    this.cancel(key);
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        fn();
      }, delayMs),
    );
  }

  cancel(key: string): void {
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
  }

  cancelAll(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
