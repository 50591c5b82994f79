import type { AcmeChallenge } from "@edgeplane/gateway";

/**
 * ACME HTTP-01 answers this process is presenting right now. They live in memory only: an answer is
 * needed for the seconds an order takes, and the process that presents one is the one that renders
 * the gateway config serving it.
 */
export class ChallengeStore {
  private readonly answers = new Map<string, string>();

  set(token: string, keyAuthorization: string): void {
    this.answers.set(token, keyAuthorization);
  }

  delete(token: string): void {
    this.answers.delete(token);
  }

  list(): AcmeChallenge[] {
    return [...this.answers].map(([token, keyAuthorization]) => ({ token, keyAuthorization }));
  }
}
