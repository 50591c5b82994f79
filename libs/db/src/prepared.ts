import { is, Param, Placeholder, type SQLWrapper } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { drizzle } from "drizzle-orm/postgres-js";
import { clientOf, type RawRow } from "./raw.ts";

/**
 * Builds statements without a connection, for `prepare`: `statements.update(environments)…`, with
 * `sql.placeholder("name")` wherever a value differs from one run to the next.
 */
export const statements = drizzle.mock();

type Slot =
  | { value: unknown }
  | { placeholder: string; encoder?: { mapToDriverValue(value: unknown): unknown } };

/**
 * A statement built and compiled once, run many times with its placeholders' values. Postgres
 * parses and plans it once per connection (a named prepared statement), and nothing rebuilds its
 * SQL per request. Every value that changes between runs must be a placeholder: a value computed
 * while building (`new Date()`, an `$onUpdate` column left unset) would be fixed forever.
 */
export interface PreparedStatement {
  readonly text: string;
  /** The parameters of one run: literals as compiled, placeholders from `values`, encoded by their column. */
  bind(values: Record<string, unknown>): unknown[];
}

const dialect = new PgDialect();

export function prepare(statement: SQLWrapper): PreparedStatement {
  const { sql: text, params } = dialect.sqlToQuery(statement.getSQL());
  const slots: Slot[] = params.map((param): Slot => {
    if (is(param, Placeholder)) return { placeholder: param.name };
    if (is(param, Param) && is(param.value, Placeholder))
      return { placeholder: param.value.name, encoder: param.encoder };
    return { value: param };
  });
  return {
    text,
    bind(values) {
      return slots.map((slot) => {
        if ("value" in slot) return slot.value;
        if (!(slot.placeholder in values)) throw new Error(`no value for placeholder ${slot.placeholder}`);
        const value = values[slot.placeholder];
        // null is SQL NULL for every column (a jsonb encoder would store JSON null)
        if (value === null || value === undefined) return null;
        if (slot.encoder) return slot.encoder.mapToDriverValue(value);
        // a placeholder in raw SQL has no column to encode it: a time goes as ISO 8601 text
        return value instanceof Date ? value.toISOString() : value;
      });
    },
  };
}

/** Runs a prepared statement on its own (autocommit), on any connection of `db`'s pool. */
export async function runPrepared(
  db: object,
  statement: PreparedStatement,
  values: Record<string, unknown>,
): Promise<RawRow[]> {
  const rows = await clientOf(db).unsafe(statement.text, statement.bind(values) as never[], {
    prepare: true,
  });
  return rows as unknown as RawRow[];
}
