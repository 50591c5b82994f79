import { resolve } from "node:path";
import { APPS, keysFromStateDir } from "../apps.ts";
import { table } from "../output.ts";
import { ensureKeys, KEY_FILES, KEY_NAMES } from "../state.ts";

/**
 * `edgeplane keys`: makes the keys of an edgeplane once, in `dir` (EDGEPLANE_STATE_DIR), never
 * replacing one that is there, and says which app needs each. Machines of a cluster hold the same
 * keys: keep these in a secret store, and give each machine the files of the apps it runs.
 */
export async function keys(options: { dir?: string }): Promise<void> {
  const dir = resolve(options.dir ?? process.env.EDGEPLANE_STATE_DIR ?? ".edgeplane");
  const { made } = await ensureKeys(dir);
  const users = keysFromStateDir(APPS, {});
  process.stdout.write(
    table([
      ["FILE", "STATUS", "NEEDED BY"],
      ...KEY_NAMES.map((name) => [
        KEY_FILES[name].file,
        made.includes(name) ? "made" : "kept",
        (users.get(name) ?? []).join(", "),
      ]),
    ]),
  );
  process.stdout.write(
    `\nIn ${dir}, owner-only. Every machine of a cluster needs the same files: keep them in your secret\n` +
      "store and copy the ones its apps need into its EDGEPLANE_STATE_DIR (edgeplane up --only says which are missing).\n",
  );
}
