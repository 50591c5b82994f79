import { randomBytes, sign } from "node:crypto";
import { createServer, type Server } from "node:http";
import { createLocalCa } from "@edgeplane/tls";
import { freePort } from "./ports.ts";

export interface TokenRequest {
  scopes: string[];
  /** The `Authorization` header the client sent, if any. */
  authorization: string | null;
  granted: boolean;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

/**
 * A registry token service as ghcr.io and Docker Hub run one (the distribution token
 * authentication spec): trades basic credentials for a short-lived JWT, signed with ES256 and
 * carrying its certificate (`x5c`), that grants the requested repository actions. Pair it with a
 * LocalRegistry configured with `tokenAuth` to get a private registry with a real bearer challenge.
 */
export class TokenServer {
  readonly service = "edgeplane-test-registry";
  readonly issuer = "edgeplane-test-token-issuer";
  readonly requests: TokenRequest[] = [];
  port = 0;
  rootCertPem = "";
  private keyPem = "";
  private server: Server | null = null;

  constructor(private readonly credentials: { username: string; password: string }) {}

  get realm(): string {
    return `http://127.0.0.1:${this.port}/token`;
  }

  async start(): Promise<void> {
    const ca = await createLocalCa({ commonName: "edgeplane test token signer" });
    this.rootCertPem = ca.certPem;
    this.keyPem = ca.keyPem;
    this.port = await freePort();
    const expected = `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString("base64")}`;
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", this.realm);
      const authorization = req.headers.authorization ?? null;
      const scopes = url.searchParams.getAll("scope");
      const granted = authorization === expected && url.searchParams.get("service") === this.service;
      this.requests.push({ scopes, authorization, granted });
      if (url.pathname !== "/token" || !granted) {
        res
          .writeHead(401, { "content-type": "application/json" })
          .end('{"details":"incorrect username or password"}');
        return;
      }
      const token = this.token(this.credentials.username, scopes);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }),
      );
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server) await new Promise((resolve) => server.close(resolve));
    this.server = null;
  }

  /** A JWT granting the actions of each `repository:<name>:<actions>` scope. */
  private token(subject: string, scopes: string[]): string {
    const access = scopes.flatMap((scope) => {
      const match = /^repository:([^:]+):([a-z,*]+)$/.exec(scope);
      return match ? [{ type: "repository", name: match[1], actions: (match[2] ?? "").split(",") }] : [];
    });
    const der = this.rootCertPem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: "JWT", alg: "ES256", x5c: [der] };
    const claims = {
      iss: this.issuer,
      sub: subject,
      aud: this.service,
      exp: now + 300,
      nbf: now - 60,
      iat: now,
      jti: randomBytes(12).toString("hex"),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign("sha256", Buffer.from(input), { key: this.keyPem, dsaEncoding: "ieee-p1363" });
    return `${input}.${b64url(signature)}`;
  }
}
