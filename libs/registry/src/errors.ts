export class ManifestNotFoundError extends Error {
  override name = "ManifestNotFoundError";
}
export class RegistryError extends Error {
  override name = "RegistryError";
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}
/** The registry could not be reached, or answered 5xx: worth retrying, or serving from a cache. */
export class RegistryUnavailableError extends RegistryError {
  override name = "RegistryUnavailableError";
}
