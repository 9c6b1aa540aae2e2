/**
 * Lookup tables keyed by names that come from files (layer classes, op types, activation, dtype and
 * composite names). A plain object literal answers `constructor`, `__proto__` or `toString` through its
 * prototype; these tables have none, so such a name finds nothing and is refused like any unknown name.
 */
export function ownTable<T>(entries: Record<string, T>): Readonly<Record<string, T>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, T>, entries));
}

/** `table[key]` only when the table itself holds the key (for objects that keep their prototype). */
export function ownValue<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
