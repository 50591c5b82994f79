import { randomBytes } from "node:crypto";
import { certificateAuthorities, createDb, dropDatabase, migrateDatabase } from "@edgeplane/db";
import { issueCertificate, permittedDomains } from "@edgeplane/tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureLocalCa, localCaForIssuing } from "../src/tls/local-ca.ts";

const url = `postgres://postgres@127.0.0.1:5432/edgeplane_ca_${randomBytes(4).toString("hex")}`;

// The CA row as Postgres holds it: a root anyone may read, a key only EDGEPLANE_CA_KEY opens.
describe("the local CA in Postgres", () => {
  let database: ReturnType<typeof createDb>;
  const secret = randomBytes(32);
  beforeAll(async () => {
    await migrateDatabase(url);
    database = createDb(url, { max: 2 });
  });
  afterAll(async () => {
    await database?.close();
    await dropDatabase(url);
  });

  const stored = async () => {
    const [row] = await database.db.select().from(certificateAuthorities);
    return row;
  };

  it("has no CA until the issuing process creates one; the API side only reads the root", async () => {
    await expect(ensureLocalCa(database.db)).rejects.toThrow(/no local CA yet/);
    expect(await stored()).toBeUndefined();
  });

  it("stores the key sealed, usable only with the secret, and constrains the root to the domains", async () => {
    const ca = await localCaForIssuing(database.db, { secret, domains: ["preview.test"] });
    const row = await stored();
    expect(row?.keyPem).not.toContain("PRIVATE KEY");
    expect(row?.keyPem).not.toContain(ca.keyPem.split("\n")[1]);
    expect(row?.keyPem.startsWith("edgeplane-sealed:v1:")).toBe(true);
    expect(permittedDomains(row?.certPem ?? "")).toEqual(["preview.test"]);
    expect((await ensureLocalCa(database.db)).certPem).toBe(row?.certPem);
    // what the row holds is not a key; a wrong secret opens nothing
    await expect(
      issueCertificate(
        { certPem: row?.certPem ?? "", keyPem: row?.keyPem ?? "" },
        { hostnames: ["a.preview.test"] },
      ),
    ).rejects.toThrow();
    await expect(
      localCaForIssuing(database.db, { secret: randomBytes(32), domains: ["preview.test"] }),
    ).rejects.toThrow(/does not open with this EDGEPLANE_CA_KEY/);
    // the same secret gets the same CA back
    expect(await localCaForIssuing(database.db, { secret, domains: ["preview.test"] })).toEqual(ca);
  });

  it("issues the root again, same key, when a new local-TLS domain appears", async () => {
    const before = await stored();
    const again = await localCaForIssuing(database.db, { secret, domains: ["preview.test", "shop.test"] });
    const after = await stored();
    expect(after?.certPem).not.toBe(before?.certPem);
    expect(permittedDomains(after?.certPem ?? "")).toEqual(["preview.test", "shop.test"]);
    expect(again.certPem).toBe(after?.certPem);
    expect((await localCaForIssuing(database.db, { secret, domains: ["shop.test"] })).certPem).toBe(
      after?.certPem,
    );
  });

  it("seals a key an older version stored in the clear", async () => {
    const ca = await localCaForIssuing(database.db, { secret, domains: ["preview.test"] });
    await database.db.update(certificateAuthorities).set({ keyPem: ca.keyPem });
    expect((await localCaForIssuing(database.db, { secret, domains: ["preview.test"] })).keyPem).toBe(
      ca.keyPem,
    );
    expect((await stored())?.keyPem.startsWith("edgeplane-sealed:v1:")).toBe(true);
  });
});
