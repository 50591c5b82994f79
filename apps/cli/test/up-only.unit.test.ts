import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "@edgeplane/config";
import { InvalidArgumentError } from "commander";
import { afterAll, describe, expect, it } from "vitest";
import { APP_NAMES, APPS, parseApps } from "../src/apps.ts";
import { childEnvironment, keysFor } from "../src/commands/up.ts";
import { ensureKeys, KEY_FILES, type KeyName, type Keys } from "../src/state.ts";

const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), "edgeplane-keys-"));
  dirs.push(dir);
  return dir;
};
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const shared = { PATH: "/usr/bin", EDGEPLANE_GATEWAY_DIR: "/tmp/edgeplane-gateway" };

describe("edgeplane up --only", () => {
  it("takes apps by name, in the order up starts them, each once", () => {
    expect(parseApps("worker-stage,api")).toEqual(["api", "worker-stage"]);
    expect(parseApps(" api , api,janitor ")).toEqual(["api", "janitor"]);
  });

  it("refuses an unknown app or none, naming every app there is", () => {
    for (const list of ["api,worker-nope", "", ","]) {
      let error: unknown;
      try {
        parseApps(list);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(InvalidArgumentError);
      for (const name of APP_NAMES) expect((error as Error).message).toContain(name);
    }
    expect(() => parseApps("api,worker-nope")).toThrow('unknown app "worker-nope"');
  });
});

describe("the keys each app declares", () => {
  it("are exactly the ones its environment is made of", async () => {
    const { keys } = await ensureKeys(await tempDir());
    for (const app of APPS) {
      const declared = Object.keys(app.keys) as KeyName[];
      const only: Keys = Object.fromEntries(declared.map((name) => [name, keys[name]]));
      // its own keys are enough for a valid configuration
      expect(() => loadConfig(app.schema, childEnvironment(app, shared, only))).not.toThrow();
      // and each of them is needed
      for (const name of declared) {
        const without: Keys = { ...only };
        delete without[name];
        expect(() => childEnvironment(app, shared, without), `${app.name} without ${name}`).toThrow(
          KEY_FILES[name].file,
        );
      }
    }
  });
});

describe("keys for a subset of the apps", () => {
  const api = APPS.filter((app) => app.name === "api" || app.name === "worker-stage");

  it("are never made: a missing one stops up, naming the file, the apps and the variable", async () => {
    const dir = join(await tempDir(), "state");
    const error = await keysFor(api, { stateDir: dir, only: true, env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain(dir);
    expect(message).toContain("edgeplane keys");
    expect(message).toMatch(/signing-key\.json +for api, worker-stage/);
    expect(message).toMatch(/admin-token +for api \(or EDGEPLANE_ADMIN_TOKEN\)/);
    expect(message).not.toContain("ca-key"); // worker-ingress is not among them
    await expect(stat(dir)).rejects.toThrow(); // nothing written
  });

  it("are read from the state dir, or from their variables", async () => {
    const dir = await tempDir();
    const { keys } = await ensureKeys(dir);
    expect(await keysFor(api, { stateDir: dir, only: true, env: {} })).toEqual({
      key: keys.key,
      apiKey: keys.apiKey,
      credentialsKey: keys.credentialsKey,
      adminToken: keys.adminToken,
    });
    // the variables stand in for the files they name
    const partial = await tempDir();
    const { keys: made } = await ensureKeys(partial);
    await rm(join(partial, "admin-token"));
    await rm(join(partial, "credentials-key.json"));
    const env = {
      EDGEPLANE_ADMIN_TOKEN: "epa_from-the-secret-store-0123456789",
      EDGEPLANE_CREDENTIALS_PUBLIC_KEY: made.credentialsKey.publicKey,
      EDGEPLANE_CREDENTIALS_KEY: made.credentialsKey.privateKey,
    };
    const read = await keysFor(api, { stateDir: partial, only: true, env });
    expect(Object.keys(read).sort()).toEqual(["apiKey", "key"]);
    const apiEnv = childEnvironment(api[0] as (typeof APPS)[number], { ...shared, ...env }, read);
    expect(apiEnv.EDGEPLANE_ADMIN_TOKEN).toBe(env.EDGEPLANE_ADMIN_TOKEN);
  });

  it("refuse a file that is not a key", async () => {
    const dir = await tempDir();
    await ensureKeys(dir);
    await writeFile(join(dir, "signing-key.json"), "not json\n");
    await expect(keysFor(api, { stateDir: dir, only: true, env: {} })).rejects.toThrow(
      /signing-key\.json is not a key edgeplane made/,
    );
  });
});

describe("edgeplane keys", () => {
  it("makes every key once, owner-only, and never replaces one", async () => {
    const dir = join(await tempDir(), "cluster");
    const first = await ensureKeys(dir);
    expect(first.made.sort()).toEqual(Object.keys(KEY_FILES).sort());
    for (const file of await readdir(dir)) expect((await stat(join(dir, file))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const before = await readFile(join(dir, "signing-key.json"), "utf8");
    await rm(join(dir, "ca-key"));
    const second = await ensureKeys(dir);
    expect(second.made).toEqual(["caKey"]);
    expect(await readFile(join(dir, "signing-key.json"), "utf8")).toBe(before);
    expect(second.keys.key).toEqual(first.keys.key);
  });
});
