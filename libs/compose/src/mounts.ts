import { z } from "zod";
import { ComposeError } from "./error.ts";
import type { Mount } from "./types.ts";
import { at, check, expectList } from "./values.ts";
import { literal } from "./variables.ts";

const HOST_PATH = "host paths cannot be mounted: a preview shares its machine; use a named volume";

/** The long syntax of a mount; only named volumes are offered, so `type` must be `volume`. */
const longMount = z.strictObject(
  {
    type: z.string({ error: "must be volume" }),
    source: z.string({ error: "must name a top-level volume" }).optional(),
    target: z.string({ error: "must be an absolute path in the container" }),
    read_only: z.boolean({ error: "must be true or false" }).optional(),
  },
  { error: "must be a mapping" },
);

function refuseType(type: string, path: string): void {
  if (type === "volume") return;
  if (type === "bind") throw new ComposeError(path, `bind is not supported: ${HOST_PATH}`);
  if (type === "tmpfs") throw new ComposeError(path, "tmpfs is not supported: use a named volume");
  throw new ComposeError(path, `${type} is not supported: only volume`);
}

function mount(
  source: string | undefined,
  target: string,
  readOnly: boolean,
  volumes: ReadonlySet<string>,
  path: string,
): Mount {
  if (!target.startsWith("/")) {
    throw new ComposeError(path, `target "${target}" must be an absolute path in the container`);
  }
  if (source === undefined || source === "") {
    throw new ComposeError(
      path,
      "anonymous volumes are not supported: name the volume and declare it under top-level volumes",
    );
  }
  if (/^[./~]/.test(source) || /^[A-Za-z]:[\\/]/.test(source)) throw new ComposeError(path, HOST_PATH);
  if (!volumes.has(source)) {
    throw new ComposeError(path, `volume "${source}" is not declared under top-level volumes`);
  }
  return { volume: source, target, readOnly };
}

/** A short mount: "name:/path", "name:/path:ro" or "name:/path:rw". */
function shortMount(text: string, volumes: ReadonlySet<string>, path: string): Mount {
  const parts = text.split(":");
  if (parts.length === 1 && text.startsWith("/")) return mount(undefined, text, false, volumes, path);
  const [source, target = "", mode = "rw", ...rest] = parts;
  if (parts.length === 1 || rest.length > 0 || (mode !== "ro" && mode !== "rw")) {
    throw new ComposeError(path, `"${text}" must be "volume:/path", "volume:/path:ro" or "volume:/path:rw"`);
  }
  return mount(source, target, mode === "ro", volumes, path);
}

/**
 * A service's `volumes`: named volumes only, each declared at the top level. Host paths (bind
 * mounts), anonymous volumes and tmpfs are refused; edgeplane keeps the whole of an environment's
 * state in volumes it can copy and delete.
 */
export function mounts(value: unknown, volumes: ReadonlySet<string>, path: string): Mount[] {
  if (value === undefined) return [];
  const result = expectList(value, path).map((entry, index) => {
    const where = at(path, index);
    if (typeof entry === "string") return shortMount(literal(entry, where), volumes, where);
    const long = check(longMount, entry, where);
    refuseType(long.type, at(where, "type"));
    const source = long.source === undefined ? undefined : literal(long.source, at(where, "source"));
    return mount(source, literal(long.target, at(where, "target")), long.read_only ?? false, volumes, where);
  });
  const targets = new Set<string>();
  result.forEach((entry, index) => {
    if (targets.has(entry.target)) throw new ComposeError(at(path, index), `mounts ${entry.target} twice`);
    targets.add(entry.target);
  });
  return result;
}
