import type { SQLWrapper } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import type { Db } from "./client.ts";
import { connectionLost, isUnavailable } from "./errors.ts";
import type { PreparedStatement } from "./prepared.ts";
import { type RawRow, reserveOf } from "./raw.ts";

/** A transaction whose statements go out without waiting for the answers of the ones before. */
export interface PipelinedTx {
  /**
   * Sends `statement` now, behind every statement sent before it, and resolves to its rows once
   * Postgres has run it. Each statement sees what the ones before it changed (and, read committed,
   * what other transactions committed before it started). A prepared statement takes `values`.
   */
  send(statement: SQLWrapper): Promise<RawRow[]>;
  send(statement: PreparedStatement, values: Record<string, unknown>): Promise<RawRow[]>;
  /**
   * Sends COMMIT behind the statements sent so far; nothing can be sent after it. Resolves once
   * committed, rejects with the first failed statement's error if the transaction was rolled back.
   */
  commit(): Promise<void>;
}

const dialect = new PgDialect();

/**
 * Runs `fn` in a transaction on one connection whose statements are pipelined: BEGIN goes out with
 * the first statement, COMMIT with the last, and the only waits are the ones `fn` needs to decide
 * what to send next. A transaction that knows all its statements up front costs one round trip
 * instead of one per statement, and holds its row locks no longer than Postgres takes to run it.
 *
 * `fn` sends COMMIT itself (`tx.commit()`) to have it travel with its last statements; if it returns
 * without, COMMIT is sent then. If `fn` throws before committing, the transaction is rolled back.
 */
export async function pipelinedTransaction<T>(db: Db, fn: (tx: PipelinedTx) => Promise<T>): Promise<T> {
  const { connection, lost: poolLost } = await reserveOf(db);
  const sent: Array<Promise<unknown>> = [];
  let failure: { error: unknown } | null = null;
  let ended: Promise<void> | null = null;
  /**
   * The connection was lost, or may have been (a statement failed for want of Postgres, or the pool
   * lost a connection). The driver may have connected it again and handed it to another caller:
   * nothing more is sent on it, not even a ROLLBACK (a lost session rolls back with it), and it is
   * not released (the pool, being replaced, ends it).
   */
  let lost = false;

  const dispatch = (text: string, params: unknown[], prepare: boolean) => {
    if (!lost && poolLost()) {
      lost = true;
      failure ??= { error: connectionLost() };
    }
    if (lost) {
      const rows = Promise.reject(failure?.error);
      rows.catch(() => {});
      return rows;
    }
    // execute(): on the wire now, in the order sent (awaiting alone would send it a tick later)
    const query = connection.unsafe(text, params as never[], { prepare }).execute();
    const rows = Promise.resolve(query).then(
      (result) => result as unknown as RawRow[] & { command?: string },
      (error: unknown) => {
        failure ??= { error };
        if (isUnavailable(error)) lost = true;
        throw error;
      },
    );
    sent.push(rows.catch(() => {})); // also marks `rows` handled when `fn` never awaits it
    return rows;
  };
  const end = (command: "commit" | "rollback") => {
    ended = dispatch(command, [], false).then(
      (result) => {
        // Postgres answers COMMIT in a failed transaction with ROLLBACK
        if (command === "commit" && failure) throw failure.error;
        if (command === "commit" && result.command !== "COMMIT")
          throw new Error(`transaction ended with ${result.command}`);
      },
      (error: unknown) => {
        throw failure?.error ?? error;
      },
    );
    ended.catch(() => {}); // awaited below, or by whoever called commit()
    return ended;
  };
  const tx: PipelinedTx = {
    send(statement: SQLWrapper | PreparedStatement, values?: Record<string, unknown>) {
      if (ended) throw new Error("statement sent after the transaction ended");
      if ("bind" in statement) return dispatch(statement.text, statement.bind(values ?? {}), true);
      const query = dialect.sqlToQuery(statement.getSQL());
      return dispatch(query.sql, query.params, false);
    },
    commit() {
      if (ended) throw new Error("transaction already ended");
      return end("commit");
    },
  };

  try {
    dispatch("begin", [], false);
    let result: T;
    try {
      result = await fn(tx);
    } catch (error) {
      if (!ended && !lost) end("rollback");
      throw error;
    }
    await (ended ?? end("commit"));
    return result;
  } finally {
    // the connection goes back to the pool only once it has answered everything sent on it
    await Promise.all(sent);
    if (!lost && !poolLost()) connection.release();
  }
}
