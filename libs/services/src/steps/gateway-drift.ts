import { readFile } from "node:fs/promises";
import type { Logger } from "@edgeplane/log";

/** What the drift check needs of a gateway: how to apply routes, and where its config file lives. */
export interface WatchableGateway {
  apply(...args: never[]): Promise<unknown>;
  readonly paths: { readonly config: string };
}

export interface GatewayWatch<G> {
  /** The gateway to hand to every step that applies config: each apply records what it installed. */
  gateway: G;
  /**
   * Compares the config file on disk with what this process installed last. If someone changed,
   * corrupted or removed it, calls `resync` (which renders the whole config from Postgres again,
   * validates, installs and reloads) and resolves true.
   */
  check(resync: () => Promise<unknown>): Promise<boolean>;
}

/**
 * Gateway drift repair: the config is derived from state, so a file that differs from the last
 * rendering is put back. The returned gateway is a proxy that forwards everything and remembers
 * the config text each apply installed (the text handed to `applyConfigText`, or else the file as
 * read right after the apply), so a write by someone else is never mistaken for ours.
 */
export function watchGateway<G extends WatchableGateway>(gateway: G, log: Logger): GatewayWatch<G> {
  let installed: string | null = null;
  let applying = 0;
  const read = () => readFile(gateway.paths.config, "utf8").catch(() => null);
  const proxy: G = new Proxy(gateway, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      if (property === "applyConfigText") {
        return async (text: string, ...rest: unknown[]) => {
          const result = await value.call(target, text, ...rest);
          installed = text;
          return result;
        };
      }
      if (property === "apply") {
        return async (...args: unknown[]) => {
          applying++;
          const before = installed;
          installed = null;
          try {
            // `this` is the proxy, so the apply's own call to applyConfigText is seen above
            const result = await value.apply(proxy, args);
            installed ??= (await read()) ?? before;
            return result;
          } catch (error) {
            installed ??= before; // refused (nginx -t): the previous config is still the one serving
            throw error;
          } finally {
            applying--;
          }
        };
      }
      return value.bind(target);
    },
  });
  return {
    gateway: proxy,
    async check(resync) {
      // nothing rendered by this process yet, or a rendering under way: look again next time
      if (installed === null || applying > 0) return false;
      const onDisk = await read();
      if (onDisk === installed || applying > 0) return false;
      log.warn(
        { file: gateway.paths.config },
        "gateway config changed on disk; rendering it again from state",
      );
      await resync();
      return true;
    },
  };
}
