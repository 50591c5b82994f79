import { z } from "zod";
import { ComposeError } from "./error.ts";
import { at, check, expectList, type Mapping } from "./values.ts";

const PORT_NUMBER = "must be a port number from 1 to 65535";

/** The long syntax of a `ports` entry; only `target` and `protocol` matter, the host side is ignored. */
const longPort = z.strictObject({
  target: z.int({ error: PORT_NUMBER }).min(1, PORT_NUMBER).max(65535, PORT_NUMBER),
  protocol: z.string({ error: "must be tcp" }).optional(),
  published: z.union([z.string(), z.int()], { error: "must be a port number or a range" }).optional(),
  host_ip: z.string({ error: "must be an IP address" }).optional(),
  mode: z.string({ error: "must be host or ingress" }).optional(),
  name: z.string({ error: "must be a string" }).optional(),
  app_protocol: z.string({ error: "must be a string" }).optional(),
});

function checkProtocol(protocol: string, path: string): void {
  if (protocol === "tcp") return;
  if (protocol === "udp") {
    throw new ComposeError(path, "udp is not supported: the gateway routes HTTP over TCP");
  }
  throw new ComposeError(path, `unknown protocol "${protocol}": only tcp is supported`);
}

/** A container port written as text: "80", "80/tcp", or the container part of a short `ports` entry. */
function portNumber(text: string, path: string): number {
  if (/^\d+-\d+$/.test(text)) throw new ComposeError(path, "port ranges are not supported: give one port");
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) throw new ComposeError(path, `"${text}" ${PORT_NUMBER}`);
  return port;
}

/** Splits "80/udp" into the port part and its protocol (tcp when none is written). */
function splitProtocol(text: string): [string, string] {
  const slash = text.lastIndexOf("/");
  return slash < 0 ? [text, "tcp"] : [text.slice(0, slash), text.slice(slash + 1)];
}

/** One `ports` entry: `80`, "80", "8080:80", "127.0.0.1:8080:80", "80/tcp", or `{ target: 80 }`. */
function portsEntry(entry: unknown, path: string): number {
  if (typeof entry === "number") return portNumber(String(entry), path);
  if (typeof entry === "string") {
    const [ports, protocol] = splitProtocol(entry.trim());
    checkProtocol(protocol, path);
    return portNumber(ports.slice(ports.lastIndexOf(":") + 1), path);
  }
  const long = check(longPort, entry, path);
  if (long.protocol !== undefined) checkProtocol(long.protocol, at(path, "protocol"));
  return long.target;
}

/** One `expose` entry: `80`, "80" or "80/tcp". */
function exposeEntry(entry: unknown, path: string): number {
  if (typeof entry === "number") return portNumber(String(entry), path);
  if (typeof entry !== "string") throw new ComposeError(path, `${PORT_NUMBER}, such as 80 or "80/tcp"`);
  const [port, protocol] = splitProtocol(entry.trim());
  checkProtocol(protocol, path);
  return portNumber(port, path);
}

/**
 * The container port of a service: the container side of its first `ports` entry, or else its first
 * `expose` entry; null if it has neither. Every entry is checked, though only the first one counts.
 * The host side of `ports` (address, published port, `mode`) is ignored: edgeplane publishes nothing
 * on the host, its gateway routes each environment's hostname to this port.
 */
export function containerPort(service: Mapping, path: string): number | null {
  const ports = service.ports === undefined ? [] : expectList(service.ports, at(path, "ports"));
  const expose = service.expose === undefined ? [] : expectList(service.expose, at(path, "expose"));
  const fromPorts = ports.map((entry, index) => portsEntry(entry, at(at(path, "ports"), index)));
  const fromExpose = expose.map((entry, index) => exposeEntry(entry, at(at(path, "expose"), index)));
  return fromPorts[0] ?? fromExpose[0] ?? null;
}
