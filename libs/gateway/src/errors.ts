/**
 * A route set or config text the gateway refuses: invalid input before rendering, or a config that
 * `nginx -t` rejects. The previous config stays in place and keeps serving.
 */
export class GatewayConfigError extends Error {
  override name = "GatewayConfigError";
}
