import { createHash, randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import { asc, type Db, projects } from "@edgeplane/db";
import { environmentHostnameOf, environmentKind } from "@edgeplane/domain";
import { z } from "zod";

/**
 * A project's protection as stored: the password hashed (scrypt), never kept. With `scope:
 * previews`, `dev`/`staging`/`prod` stay public.
 */
export type StoredProtection =
  | { mode: "off" }
  | { mode: "basic"; username: string; passwordHash: string; scope: "previews" | "all" };

export const protectionInput = z.discriminatedUnion("mode", [
  z.strictObject({ mode: z.literal("off") }),
  z.strictObject({
    mode: z.literal("basic"),
    username: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[^:\s]+$/, "must not contain ':' or spaces"),
    password: z.string().min(8, "at least 8 characters").max(1024),
    scope: z.enum(["previews", "all"]).default("previews"),
  }),
]);
export type ProtectionInput = z.infer<typeof protectionInput>;

const SCRYPT = { N: 16_384, r: 8, p: 1 } as const;

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

export function verifyPassword(password: string, stored: string): boolean {
  const [kind, n, r, p, salt, hash] = stored.split("$");
  if (kind !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64");
  const actual = scryptSync(password, Buffer.from(salt, "base64"), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return timingSafeEqual(actual, expected);
}

export const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");

/** The columns protection settings become; undefined leaves them alone. */
export function protectionColumns(input: {
  protection?: ProtectionInput | undefined;
  bypassToken?: string | null | undefined;
}): { protection?: StoredProtection; bypassTokenHash?: string | null } {
  const columns: { protection?: StoredProtection; bypassTokenHash?: string | null } = {};
  if (input.protection !== undefined) {
    const p = input.protection;
    columns.protection =
      p.mode === "off"
        ? { mode: "off" }
        : { mode: "basic", username: p.username, passwordHash: hashPassword(p.password), scope: p.scope };
  }
  if (input.bypassToken !== undefined)
    columns.bypassTokenHash = input.bypassToken === null ? null : sha256(input.bypassToken);
  return columns;
}

export function readProtection(stored: unknown): StoredProtection {
  const value = stored as Partial<StoredProtection> | null;
  if (value?.mode === "basic" && "passwordHash" in value && value.passwordHash)
    return value as StoredProtection;
  return { mode: "off" };
}

/** What the API shows: never the password or its hash. */
export function protectionView(stored: unknown): {
  mode: "off" | "basic";
  username?: string;
  scope?: string;
} {
  const p = readProtection(stored);
  return p.mode === "off" ? { mode: "off" } : { mode: "basic", username: p.username, scope: p.scope };
}

interface ProtectedSite {
  name: string;
  domain: string;
  protection: StoredProtection;
  bypassTokenHash: string | null;
}

/** Projects' protection, read at most once a second per process: a change holds within that. */
let cache: { at: number; sites: ProtectedSite[] } | null = null;
/** Authorization headers that passed, per project and password hash: scrypt is slow on purpose. */
const verified = new Map<string, number>();
const VERIFIED_MS = 60_000;

async function sites(db: Db): Promise<ProtectedSite[]> {
  if (cache && Date.now() - cache.at < 1000) return cache.sites;
  const rows = await db
    .select({
      name: projects.name,
      domain: projects.domain,
      protection: projects.protection,
      bypassTokenHash: projects.bypassTokenHash,
    })
    .from(projects)
    .orderBy(asc(projects.name));
  const list = rows
    .map((r) => ({ ...r, protection: readProtection(r.protection) }))
    .sort((a, b) => b.domain.length - a.domain.length);
  cache = { at: Date.now(), sites: list };
  return list;
}

/** Forgets what this process read of projects' protection (after it changed one). */
export function forgetProtection(): void {
  cache = null;
}

/** The environment a host of a project names: `{env}.{domain}` or a service's `{service}--{env}.{domain}`. */
function environmentOfHost(host: string, domain: string): string | null {
  if (!host.endsWith(`.${domain}`)) return null;
  const name = environmentHostnameOf(host).slice(0, -domain.length - 1);
  return name.includes(".") ? null : name;
}

/** The project whose domain a host lies under (the longest domain, when one lies under another). */
async function siteOfHost(db: Db, host: string): Promise<ProtectedSite | undefined> {
  return (await sites(db)).find((s) => environmentOfHost(host, s.domain) !== null);
}

export type AccessDecision = { allowed: true } | { allowed: false; realm: string };

/**
 * Whether a request for `host` may pass the gateway: hosts of projects without protection (or, with
 * `scope: previews`, of fixed environments) always; protected ones with the right Basic credentials,
 * the bypass token in the `X-Edgeplane-Bypass` header or the `edgeplane_bypass` cookie.
 */
export async function gatewayAccess({
  db,
  input,
}: {
  db: Db;
  input: { host: string; authorization?: string; bypass?: string; bypassCookie?: string };
}): Promise<AccessDecision> {
  const host = input.host.toLowerCase();
  const site = await siteOfHost(db, host);
  if (!site || site.protection.mode === "off") return { allowed: true };
  const environment = environmentOfHost(host, site.domain) ?? "";
  if (site.protection.scope === "previews" && environmentKind(environment) !== "preview")
    return { allowed: true };
  const realm = `${site.name} previews`;
  const token = input.bypass ?? input.bypassCookie;
  if (
    token &&
    site.bypassTokenHash &&
    timingSafeEqual(Buffer.from(sha256(token)), Buffer.from(site.bypassTokenHash))
  )
    return { allowed: true };
  const auth = input.authorization ?? "";
  if (!/^Basic /i.test(auth)) return { allowed: false, realm };
  const key = sha256(`${site.protection.passwordHash}|${auth}`);
  const until = verified.get(key);
  if (until !== undefined && until > Date.now()) return { allowed: true };
  const decoded = Buffer.from(auth.slice(6).trim(), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const ok =
    colon > 0 &&
    decoded.slice(0, colon) === site.protection.username &&
    verifyPassword(decoded.slice(colon + 1), site.protection.passwordHash);
  if (!ok) return { allowed: false, realm };
  if (verified.size > 10_000) verified.clear();
  verified.set(key, Date.now() + VERIFIED_MS);
  return { allowed: true };
}

/** A bypass token given in a link: right for the host's project? */
export async function bypassTokenValid({ db, input }: { db: Db; input: { host: string; token: string } }) {
  const site = await siteOfHost(db, input.host.toLowerCase());
  return Boolean(
    site?.bypassTokenHash &&
      timingSafeEqual(Buffer.from(sha256(input.token)), Buffer.from(site.bypassTokenHash)),
  );
}
