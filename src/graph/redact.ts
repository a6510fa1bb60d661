/** Graph `paging.next` URLs embed the access token; nothing we print or store may carry it. */
export function stripAccessToken(url: URL): URL {
  const copy = new URL(url);
  copy.searchParams.delete('access_token');
  return copy;
}

/** Replaces every occurrence of each secret (and any `access_token=` value) in free text. */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text.replace(/(access_token=)[^&\s"'<>]+/gi, '$1[REDACTED]');
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('[REDACTED]');
  }
  return out;
}
