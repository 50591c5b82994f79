import { randomBytes } from "node:crypto";
import {
  createDb,
  dropDatabase,
  ensureDatabase,
  migrateDatabase,
  type ProjectRow,
  projects,
} from "@edgeplane/db";
import { newId } from "@edgeplane/domain";
import postgres from "postgres";
import { recordDeployment } from "../src/intent.ts";

/**
 * A migrated database of its own with one project in it, for tests of intent writes: the pool they
 * write with, a single connection of another session (a worker, or a reader of the rows), the
 * project with the version (`xmin`) its row is at, and `deploy`, which records a deployment of it
 * as the API does.
 */
export async function projectDatabase(name: string) {
  const url = `postgres://postgres@127.0.0.1:5432/edgeplane_${name}_${randomBytes(4).toString("hex")}`;
  await ensureDatabase(url);
  await migrateDatabase(url);
  const db = createDb(url, { max: 8 });
  const other = postgres(url, { max: 1, onnotice: () => {} });
  const [row] = await db.db
    .insert(projects)
    .values({ id: newId("project"), name, domain: `${name}.test`, port: 8080 })
    .returning();
  const [v] = await other<{ version: string }[]>`select xmin::text as version from projects`;
  const project = row as ProjectRow;
  const version = v?.version ?? "";
  return {
    db,
    other,
    project,
    version,
    deploy: (environment: string, image = "ghcr.io/acme/web:one") =>
      recordDeployment(db.db, { project, projectVersion: version, environment, image, requestedBy: null }),
    async close() {
      await db.close();
      await other.end();
      await dropDatabase(url);
    },
  };
}
