import type { Db } from "@edgeplane/db";

/**
 * What this process last read, per db and key, for verbs whose writes are guarded by the version
 * they read (see StaleProject), so that a copy may stand in for a read. Bounded: past `atMost`
 * keys, the whole map goes.
 */
export class LastRead<V> {
  readonly #byDb = new WeakMap<Db, Map<string, V>>();

  constructor(private readonly atMost: number) {}

  /**
   * The value of `key` as last read (`cached`), or read now with `read` when `fresh` or never read
   * before; a value `keep` refuses (or a read that throws) is not remembered.
   */
  async get(
    db: Db,
    key: string,
    options: { fresh: boolean; read: () => Promise<V>; keep?: (value: V) => boolean },
  ): Promise<{ value: V; cached: boolean }> {
    let byKey = this.#byDb.get(db);
    if (!byKey) {
      byKey = new Map();
      this.#byDb.set(db, byKey);
    }
    const cached = options.fresh ? undefined : byKey.get(key);
    if (cached !== undefined) return { value: cached, cached: true };
    byKey.delete(key);
    const value = await options.read();
    if (options.keep?.(value) ?? true) {
      if (byKey.size >= this.atMost) byKey.clear();
      byKey.set(key, value);
    }
    return { value, cached: false };
  }
}
