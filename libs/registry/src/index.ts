export { type FetchedManifest, RegistryClient, type RegistryClientOptions, type RegistryCredentials } from "./client.ts";
export { ManifestNotFoundError, RegistryError, RegistryUnavailableError } from "./errors.ts";
export { type Descriptor, hostPlatform, IMAGE_MANIFEST_TYPES, imageBlobs, INDEX_TYPES, type Manifest, MANIFEST_TYPES, parseManifest, type Platform, selectPlatform } from "./manifest.ts";
export { warmImage, type WarmReport } from "./warm.ts";
