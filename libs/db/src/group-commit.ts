import type { Db } from "./client.ts";
import { type PipelinedTx, pipelinedTransaction } from "./pipelined-transaction.ts";

interface Waiting<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: writes that arrive while one is being committed wait, and go together in the next
 * transaction, one round trip and one COMMIT for all of them. With nothing in flight a write goes
 * at once, alone, as it would without this; under load, what each costs in round trips, socket
 * writes and WAL flushes is shared by every write that arrived meanwhile. Each caller's promise
 * resolves only once the transaction holding its write has committed.
 *
 * One transaction is in flight at a time, so two batches never hold locks the other waits for; in
 * a batch the writes go in the order `order` gives (the same order for the same rows, always),
 * otherwise in arrival order. If any write of a batch fails, the batch is rolled back and each of
 * its writes is run again in a transaction of its own, so a failure is its own write's, never a
 * neighbour's.
 *
 * `send` puts one write's statements on the wire (see PipelinedTx) and resolves to its result.
 */
export class GroupCommit<I, R> {
  readonly #waiting: Array<Waiting<I, R>> = [];
  #busy = false;

  constructor(
    private readonly db: Db,
    private readonly send: (tx: PipelinedTx, item: I) => Promise<R>,
    private readonly options: { maxBatch?: number; order?: (a: I, b: I) => number } = {},
  ) {}

  run(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      if (!this.#busy) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#busy = true;
    try {
      while (this.#waiting.length > 0) {
        const batch = this.#waiting.splice(0, this.options.maxBatch ?? 64);
        if (batch.length > 1 && (await this.#together(batch))) continue;
        await Promise.all(batch.map((w) => this.#alone(w.item).then(w.resolve, w.reject)));
      }
    } finally {
      this.#busy = false;
    }
  }

  /** The batch in one transaction; false, having changed nothing, if any of its writes failed. */
  async #together(batch: Array<Waiting<I, R>>): Promise<boolean> {
    const order = this.options.order;
    const sorted = order ? [...batch].sort((a, b) => order(a.item, b.item)) : batch;
    try {
      const results = await pipelinedTransaction(this.db, async (tx) => {
        const [all] = await Promise.all([Promise.all(sorted.map((w) => this.send(tx, w.item))), tx.commit()]);
        return all;
      });
      for (const [i, w] of sorted.entries()) w.resolve(results[i] as R);
      return true;
    } catch {
      return false; // rolled back: each write again on its own, to find whose it was
    }
  }

  #alone(item: I): Promise<R> {
    return pipelinedTransaction(this.db, async (tx) => {
      const [result] = await Promise.all([this.send(tx, item), tx.commit()]);
      return result;
    });
  }
}
