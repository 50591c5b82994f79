const OCI_TAG_MAX = 128;

/**
 * Makes a branch name usable inside an OCI tag (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`): every other
 * character becomes `-`, a leading `.` or `-` becomes `_`, and the result is cut to 128 characters.
 */
export function sanitizeTagPart(value: string): string {
  const safe = value.replace(/[^A-Za-z0-9_.-]/g, "-").replace(/^[.-]/, "_");
  return (safe || "_").slice(0, OCI_TAG_MAX);
}

export interface PreviewImageVars {
  number: number;
  sha: string;
  branch: string;
}

/**
 * Fills a project's preview image template, e.g. `ghcr.io/acme/web:pr-{number}` or
 * `ghcr.io/acme/web:sha-{sha}`. Placeholders: `{number}`, `{sha}`, `{branch}` (sanitized for a tag).
 * Anything else in braces is left as written.
 */
export function renderPreviewImage(template: string, vars: PreviewImageVars): string {
  return template.replace(/\{(number|sha|branch)\}/g, (_match, name: keyof PreviewImageVars) => {
    if (name === "branch") return sanitizeTagPart(vars.branch);
    return String(vars[name]);
  });
}
