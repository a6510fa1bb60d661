/** Graph `paging.next` URLs embed the access token; nothing we print or store may carry it. */
export function stripAccessToken(url: URL): URL {
  const copy = new URL(url);
  copy.searchParams.delete('access_token');
  return copy;
}

/** Characters a token, key or secret is made of: a match must not be a piece of a longer word. */
const WORD = 'A-Za-z0-9_\\-';
/** Shorter values are not scrubbed: "token" or "key" would rewrite ordinary words (real secrets are longer). */
const MIN_SECRET_LENGTH = 8;

/** Replaces every whole occurrence of each secret (and any `access_token=` value) in free text. */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text.replace(/(access_token=)[^&\s"'<>]+/gi, '$1[REDACTED]');
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // A dash may come before a secret (`--<pasted token>`), not after it (it would be part of a longer token).
    out = out.replace(new RegExp(`(?<![A-Za-z0-9_])${escaped}(?![${WORD}])`, 'g'), '[REDACTED]');
  }
  return out;
}

/**
 * Command-line values that look like a pasted token or secret rather than a path or a flag (no `/`, `\`, `.` or
 * `~`, at least 20 characters of letters and digits, or an Instagram/Facebook token prefix): an error about them
 * (an unknown argument, a file that cannot be read) must not echo them.
 */
export function secretLookingArgs(argv: readonly string[]): string[] {
  return argv
    .flatMap((a) =>
      a.startsWith('-') && a.includes('=') ? [a.slice(a.indexOf('=') + 1)] : [a.replace(/^-+/, '')],
    )
    .filter(
      (v) =>
        /^[A-Za-z0-9_-]+$/.test(v) &&
        ((/^(IGAA|IGQV|EAA)/.test(v) && v.length >= 12) ||
          (v.length >= 20 && /[A-Za-z]/.test(v) && /\d/.test(v))),
    );
}
