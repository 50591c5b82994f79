/**
 * Publishes and removes the TXT record a DNS-01 challenge asks for. `fqdn` is the record name
 * (`_acme-challenge.preview.test`, no trailing dot), `value` the key authorization digest.
 * Both calls are idempotent: presenting twice or cleaning up what is gone is not an error.
 */
export interface DnsProvider {
  present(fqdn: string, value: string): Promise<void>;
  cleanup(fqdn: string, value: string): Promise<void>;
}
