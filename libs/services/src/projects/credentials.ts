import { badRequest } from "@edgeplane/domain";
import { type RegistryCredentialMap, sealCredentials } from "@edgeplane/registry";
import type { ServiceContext } from "../context.ts";

/**
 * The columns a project's `registryCredentials` input becomes: sealed to the staging worker's key
 * (the API cannot open them again) and the list of registries they are for. `undefined` leaves the
 * columns alone; null clears them.
 */
export function credentialColumns(
  ctx: ServiceContext,
  credentials: RegistryCredentialMap | null | undefined,
): { registryCredentials: string | null; registryCredentialHosts: string[] } | undefined {
  if (credentials === undefined) return undefined;
  if (credentials === null || Object.keys(credentials).length === 0)
    return { registryCredentials: null, registryCredentialHosts: [] };
  if (!ctx.credentialsPublicKey)
    throw badRequest(
      "registry credentials cannot be stored: this API has no EDGEPLANE_CREDENTIALS_PUBLIC_KEY to seal them with",
    );
  return {
    registryCredentials: sealCredentials(credentials, ctx.credentialsPublicKey),
    registryCredentialHosts: Object.keys(credentials).sort(),
  };
}
