export {
  type FetchedManifest,
  RegistryClient,
  type RegistryClientOptions,
  type RegistryCredentials,
} from "./client.ts";
export { ManifestNotFoundError, RegistryError, RegistryUnavailableError } from "./errors.ts";
export {
  type Descriptor,
  hostPlatform,
  IMAGE_MANIFEST_TYPES,
  INDEX_TYPES,
  imageBlobs,
  MANIFEST_TYPES,
  type Manifest,
  type Platform,
  parseManifest,
  selectPlatform,
} from "./manifest.ts";
export {
  generateCredentialsKeyPair,
  isCredentialsKey,
  openCredentials,
  type RegistryCredentialMap,
  SealedCredentialsError,
  sealCredentials,
} from "./sealed-credentials.ts";
export { type WarmReport, warmImage } from "./warm.ts";
