import type { SQLWrapper } from "drizzle-orm";
import type { Db } from "./client.ts";
import { type PipelinedTx, pipelinedTransaction } from "./pipelined-transaction.ts";
import type { PreparedStatement } from "./prepared.ts";

/** A write to group-commit: what `pipelinedTransaction` would run, and which rows it is about. */
interface Waiting {
  fn: (tx: PipelinedTx) => Promise<unknown>;
  /** What the write touches (`project/environment`): the order of a batch, and who may share one. */
  keys: readonly string[];
  /** Shares a batch with no other write of the same key (it decides on what it reads). */
  exclusive: boolean;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: writes that arrive while transactions of them are committing wait, and go
 * together in the next, one round trip and one COMMIT for all of them. With nothing in flight a
 * write goes at once (within its tick), as it would without this; under load, what each costs in
 * round trips, socket writes and WAL flushes is shared by every write that arrived meanwhile.
 *
 * A write is a function as `pipelinedTransaction` takes: it sends its statements on the `tx` it is
 * given and calls `tx.commit()` (or returns) once it has sent the last; the batch's COMMIT goes out
 * when every write of the batch has, and each `tx.commit()` resolves once it is done, so each
 * caller hears back only once its write is committed.
 *
 * Writes arriving in the same tick start together, shared among the batches that may start (each
 * takes its share of the waiting writes, and every later write of the keys it took): one backend
 * runs a batch's statements one after another, so a single batch of everything would leave
 * Postgres on one core. Up to MAX_IN_FLIGHT batches are in flight at once, never two with a key in
 * common, so two batches never take the same rows (a batch held up by a row another transaction
 * holds holds up no write of another key); in a batch the writes go in the order of their keys
 * (the same rows always taken in the same order), arrival order among equal keys. A write that
 * reads what it then decides on (`exclusive`) never shares a batch with another write of the same
 * key: it would not see that write's effect. If a statement of a batch fails, or a write throws
 * before the COMMIT is sent, the batch is rolled back and each of its writes is run again in a
 * transaction of its own, so a failure is its own write's, never a neighbour's: a write must be
 * safe to run again from the start. A write that throws once the COMMIT is on its way (its
 * statements, sent, wrote nothing) fails alone, the others committed.
 */
/** Batches in flight at once (see GroupCommit), and the writes one may hold. */
const MAX_IN_FLIGHT = 4;
const MAX_BATCH = 64;

export class GroupCommit {
  readonly #waiting: Waiting[] = [];
  /** The keys of the batches in flight: a write of one of them waits for that batch to end. */
  readonly #busyKeys = new Set<string>();
  #inFlight = 0;
  #pumping = false;

  constructor(private readonly db: Db) {}

  run<R>(
    keys: readonly string[],
    fn: (tx: PipelinedTx) => Promise<R>,
    options: { exclusive?: boolean } = {},
  ): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#waiting.push({
        fn,
        keys,
        exclusive: options.exclusive ?? false,
        resolve: resolve as (r: unknown) => void,
        reject,
      });
      this.#schedule();
    });
  }

  /** Starts batches once the writes arriving in this tick have all been added. */
  #schedule(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    queueMicrotask(() => {
      this.#pumping = false;
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < MAX_IN_FLIGHT && this.#waiting.length > 0) {
      const share = Math.ceil(this.#waiting.length / (MAX_IN_FLIGHT - this.#inFlight));
      const batch = this.#nextBatch(Math.min(MAX_BATCH, share));
      if (batch.length === 0) return; // every write waiting is for a key in flight
      const keys = batch.flatMap((w) => w.keys);
      for (const k of keys) this.#busyKeys.add(k);
      this.#inFlight++;
      void this.#commit(batch).finally(() => {
        this.#inFlight--;
        for (const k of keys) this.#busyKeys.delete(k);
        this.#pump();
      });
    }
  }

  async #commit(batch: Waiting[]): Promise<void> {
    if (batch.length > 1 && (await this.#together(batch))) return;
    await Promise.all(batch.map((w) => pipelinedTransaction(this.db, w.fn).then(w.resolve, w.reject)));
  }

  /**
   * Up to `limit` of the waiting writes, in arrival order (and past it, up to MAX_BATCH, the later
   * writes of keys it holds), leaving those that may not share it and those whose key a batch in
   * flight holds (and every later write of that key).
   */
  #nextBatch(limit: number): Waiting[] {
    const batch: Waiting[] = [];
    // key → taken exclusively (no other write of it may join)
    const taken = new Map<string, boolean>([...this.#busyKeys].map((k) => [k, true]));
    const left: Waiting[] = [];
    for (const w of this.#waiting) {
      const clash = w.keys.some((k) => taken.has(k) && (w.exclusive || taken.get(k)));
      // past the limit, a write whose keys are all this batch's still joins: it would wait for it
      const ownKeys = !w.exclusive && w.keys.every((k) => taken.get(k) === false);
      const full = batch.length >= MAX_BATCH || (batch.length >= limit && !ownKeys);
      if (full || clash) {
        left.push(w);
        // a later write of the same key must not overtake it
        for (const k of w.keys) taken.set(k, true);
        continue;
      }
      batch.push(w);
      for (const k of w.keys) taken.set(k, (taken.get(k) ?? false) || w.exclusive);
    }
    this.#waiting.splice(0, this.#waiting.length, ...left);
    const first = (w: Waiting) => w.keys[0] ?? "";
    return batch.sort((a, b) => (first(a) < first(b) ? -1 : first(a) > first(b) ? 1 : 0));
  }

  /** The batch in one transaction; false, having changed nothing, if any of its writes failed. */
  async #together(batch: Waiting[]): Promise<boolean> {
    try {
      const outcomes = await pipelinedTransaction(this.db, async (tx) => {
        let unsent = batch.length;
        let allSent!: () => void;
        const sent = new Promise<void>((resolve) => {
          allSent = resolve;
        });
        let committed!: { resolve: () => void; reject: (error: unknown) => void };
        const commit = new Promise<void>((resolve, reject) => {
          committed = { resolve, reject };
        });
        commit.catch(() => {}); // awaited by the writes that asked for it
        const runs = batch.map((w) => {
          let done = false;
          const finish = () => {
            if (done) return;
            done = true;
            if (--unsent === 0) allSent();
          };
          const own: PipelinedTx = {
            send(statement: SQLWrapper | PreparedStatement, values?: Record<string, unknown>) {
              if (done) throw new Error("statement sent after the transaction ended");
              return "bind" in statement ? tx.send(statement, values ?? {}) : tx.send(statement);
            },
            commit() {
              if (done) throw new Error("transaction already ended");
              finish();
              return commit;
            },
          };
          return w.fn(own).then((result) => {
            finish(); // returned without asking for the commit: all it had is sent
            return result;
          });
        });
        // every write's statements on the wire; a write that failed before that rolls the batch back
        await Promise.race([sent, Promise.all(runs)]);
        tx.commit().then(committed.resolve, committed.reject);
        // from here each write's outcome is its own, as in a transaction of its own: one that
        // throws having sent everything (it found its statements changed nothing) fails alone
        return Promise.allSettled(runs);
      });
      for (const [i, w] of batch.entries()) {
        const outcome = outcomes[i];
        if (outcome?.status === "fulfilled") w.resolve(outcome.value);
        else w.reject(outcome?.reason);
      }
      return true;
    } catch {
      return false; // rolled back: each write again on its own, to find whose it was
    }
  }
}
