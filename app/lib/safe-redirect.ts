/**
 * A redirect target from user input, kept only if it stays on this site: a path starting with a single "/",
 * with no scheme, host or backslash tricks. Anything else falls back.
 */
export function safeRedirect(target: FormDataEntryValue | string | null | undefined, fallback = "/projects"): string {
  if (typeof target !== "string" || !target.startsWith("/") || target.startsWith("//") || /[\\\s]/.test(target)) {
    return fallback;
  }
  const base = "http://same.invalid";
  const url = new URL(target, base);
  if (url.origin !== base) return fallback;
  return `${url.pathname}${url.search}${url.hash}`;
}
