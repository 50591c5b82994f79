import type { DnsProvider } from "./provider.ts";
import { DNS_TIMEOUT_MS } from "./transport.ts";

export interface HttpreqOptions {
  /** Base URL; the provider POSTs to `<endpoint>/present` and `<endpoint>/cleanup`. */
  endpoint: string;
  username?: string;
  password?: string;
  /** Per call, answer included (default 10 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * DNS-01 through lego's `httpreq` convention: `POST <endpoint>/present` and `POST <endpoint>/cleanup`
 * with `{"fqdn": "_acme-challenge.example.com.", "value": "<digest>"}`, Basic auth when a username is set.
 * Any 2xx answer is success.
 */
export function httpreqProvider(options: HttpreqOptions): DnsProvider {
  const send = async (action: "present" | "cleanup", fqdn: string, value: string) => {
    const url = `${options.endpoint.replace(/\/+$/, "")}/${action}`;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (options.username !== undefined) {
      const credentials = Buffer.from(`${options.username}:${options.password ?? ""}`).toString("base64");
      headers.authorization = `Basic ${credentials}`;
    }
    const body = JSON.stringify({ fqdn: fqdn.endsWith(".") ? fqdn : `${fqdn}.`, value });
    const timeoutMs = options.timeoutMs ?? DNS_TIMEOUT_MS;
    const response = await (options.fetch ?? fetch)(url, {
      method: "POST",
      headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
    }).catch((error: Error) => {
      if (error.name === "TimeoutError")
        throw new Error(
          `httpreq ${action} at ${new URL(url).origin} timed out: no answer within ${timeoutMs} ms`,
        );
      throw new Error(`httpreq ${action} at ${new URL(url).origin} unreachable: ${error.message}`);
    });
    await response.body?.cancel().catch(() => undefined);
    if (!response.ok)
      throw new Error(`httpreq ${action} at ${new URL(url).origin} answered ${response.status}`);
  };
  return {
    present: (fqdn, value) => send("present", fqdn, value),
    cleanup: (fqdn, value) => send("cleanup", fqdn, value),
  };
}
