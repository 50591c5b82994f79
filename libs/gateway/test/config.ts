/**
 * Reads a rendered config the way nginx would for the parts the tests check: which handler a map
 * gives a host, which TLS server SNI picks, what a named location does. Written from nginx's rules
 * (exact name, then the longest `*.` wildcard, then the default), not from the renderer.
 */

/** The `{ … }` blocks opened by lines matching `opening`, by brace depth (quoted strings hold no braces here). */
export function blocks(text: string, opening: RegExp): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(new RegExp(opening.source, "gm"))) {
    const start = match.index ?? 0;
    let depth = 0;
    for (let i = text.indexOf("{", start); i < text.length; i++) {
      if (text[i] === "{") depth++;
      if (text[i] === "}" && --depth === 0) {
        found.push(text.slice(start, i + 1));
        break;
      }
    }
  }
  return found;
}

export interface NginxMap {
  source: string;
  hostnames: boolean;
  default: string;
  entries: Map<string, string>;
}

/** The map setting `variable` (e.g. `$edgeplane_http`), or undefined. */
export function mapOf(text: string, variable: string): NginxMap | undefined {
  const escaped = variable.replace(/\$/g, "\\$");
  const [block] = blocks(text, new RegExp(`^\\s*map \\S+ ${escaped} \\{$`));
  if (block === undefined) return undefined;
  const lines = block.split("\n").slice(1, -1);
  const map: NginxMap = {
    source: /map (\S+)/.exec(block)?.[1] ?? "",
    hostnames: false,
    default: "",
    entries: new Map(),
  };
  for (const line of lines) {
    // a key, then its value: a word or a quoted string (which holds no `#` or `;` here)
    const [key = "", ...value] = line.replace(/#.*$/, "").trim().replace(/;$/, "").split(" ");
    if (key === "hostnames") map.hostnames = true;
    else if (key === "default") map.default = value.join(" ");
    else if (value.length > 0) map.entries.set(key.replace(/^\\/, ""), value.join(" "));
  }
  return map;
}

/** A config string as nginx reads it: quotes removed, `\n`, `\t`, `\r` unescaped, `\x` read as `x`. */
function unquote(value: string): string {
  if (!value.startsWith('"')) return value;
  const escapes: Record<string, string> = { n: "\n", t: "\t", r: "\r" };
  return value.slice(1, -1).replace(/\\(.)/g, (_, c: string) => escapes[c] ?? c);
}

/**
 * The value of an expression (`data:$a$b`) for a request: each variable that a map sets is looked up
 * in it (its source evaluated the same way), others are taken from `given`.
 */
export function evaluate(text: string, expression: string, given: Record<string, string>): string {
  return expression.replace(/\$[a-z_0-9]+/g, (variable) => {
    const known = given[variable];
    if (known !== undefined) return known;
    const map = mapOf(text, variable);
    if (!map) throw new Error(`no map sets ${variable}`);
    return evaluate(text, unquote(lookup(map, evaluate(text, map.source, given))), given);
  });
}

/** An exact name, else the longest `*.` wildcard it lies under (hostnames maps), else the default. */
export function lookup(map: NginxMap, host: string): string {
  const exact = map.entries.get(host);
  if (exact !== undefined) return exact;
  if (map.hostnames) {
    for (let dot = host.indexOf("."); dot !== -1; dot = host.indexOf(".", dot + 1)) {
      const wildcard = map.entries.get(`*${host.slice(dot)}`);
      if (wildcard !== undefined) return wildcard;
    }
  }
  return map.default;
}

export interface Server {
  text: string;
  listen: string;
  names: string[];
}

export function servers(text: string): Server[] {
  return blocks(text, /^ {2}server \{$/).map((block) => ({
    text: block,
    listen: /listen ([^;]+);/.exec(block)?.[1] ?? "",
    names: (/server_name ([^;]+);/.exec(block)?.[1] ?? "").split(" "),
  }));
}

/** The server handling `host` on a listener: an exact server_name, the longest wildcard, the default. */
export function serverFor(text: string, port: number, host: string): Server | undefined {
  const candidates = servers(text).filter((s) => s.listen.split(" ")[0]?.endsWith(`:${port}`));
  const exact = candidates.find((s) => s.names.includes(host));
  if (exact) return exact;
  for (let dot = host.indexOf("."); dot !== -1; dot = host.indexOf(".", dot + 1)) {
    const wildcard = candidates.find((s) => s.names.includes(`*${host.slice(dot)}`));
    if (wildcard) return wildcard;
  }
  return candidates.find((s) => s.listen.includes("default_server"));
}

/**
 * What a TLS handshake asking for `host` (SNI) on `port` presents: the chain and key the server SNI
 * finds loads (`data:` PEM, or a file's path), or undefined when that server refuses the handshake.
 */
export function presentedFor(
  text: string,
  port: number,
  host: string,
): { chain: string; key: string } | undefined {
  const server = serverFor(text, port, host);
  if (!server || server.text.includes("ssl_reject_handshake on;")) return undefined;
  const load = (directive: string) => {
    const expression = new RegExp(`^\\s*${directive} (\\S+);$`, "m").exec(server.text)?.[1] ?? "";
    return evaluate(text, expression, { $ssl_server_name: host }).replace(/^data:/, "");
  };
  return { chain: load("ssl_certificate"), key: load("ssl_certificate_key") };
}

/** The directives of a location (`@upstream`, `= /.edgeplane/access`, …) in a server, one per line. */
export function locationOf(server: string, name: string): string[] | undefined {
  const escaped = name.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const [block] = blocks(server, new RegExp(`^\\s*location ${escaped} \\{$`));
  return block
    ?.split("\n")
    .slice(1, -1)
    .map((line) => line.trim());
}

/** What a request for `host` on the plain-HTTP listener (or HTTPS) is handed to: a named location. */
export function handlerFor(text: string, listener: "http" | "https", host: string): string {
  const map = mapOf(text, `$edgeplane_${listener}`);
  if (!map) throw new Error(`no map for ${listener}`);
  return lookup(map, host);
}

/** The upstream address the map gives a host, or undefined without one. */
export function upstreamFor(text: string, host: string): string | undefined {
  const map = mapOf(text, "$edgeplane_upstream");
  return map?.entries.get(host);
}
