const dayMs = 24 * 60 * 60 * 1000;

/**
 * When a certificate should be renewed: `renewBeforeDays` before it expires, or once a third of its
 * lifetime is left if that comes later (short-lived certificates; a 90-day one renews at 30 days either
 * way). Renewing early leaves time for failed attempts to be retried while the old one still serves.
 */
export function renewalTime(notBefore: Date, notAfter: Date, renewBeforeDays = 30): Date {
  const lifetime = Math.max(0, notAfter.getTime() - notBefore.getTime());
  const margin = Math.min(renewBeforeDays * dayMs, lifetime / 3);
  return new Date(notAfter.getTime() - margin);
}

export function renewalDue(notBefore: Date, notAfter: Date, now: Date, renewBeforeDays = 30): boolean {
  return now.getTime() >= renewalTime(notBefore, notAfter, renewBeforeDays).getTime();
}
