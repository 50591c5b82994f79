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
