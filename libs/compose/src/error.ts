/**
 * A compose file edgeplane cannot run, in words fit for an HTTP 400 body. `path` names the offending
 * key (`services.web.privileged`, `volumes.pgdata.driver`; "" for the file as a whole) and the message
 * starts with it: `services.web.privileged: not allowed: a preview service cannot run privileged`.
 */
export class ComposeError extends Error {
  override name = "ComposeError";
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(path ? `${path}: ${reason}` : reason);
  }
}
