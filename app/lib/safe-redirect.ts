// Any fixed origin works here: only where a target lands relative to it matters. The app only ever makes
// relative redirect targets, so an absolute URL falls back even when it names this site.
const BASE = "http://app.invalid";

/**
 * A redirect target from user input, kept only if it stays on this site. The target is resolved the way a
 * browser resolves it (dot segments, `%2e`, backslashes, tabs) and kept only when it lands on this origin with a
 * path a browser cannot read as another host: `/.//evil.example` resolves to the path `//evil.example`, which
 * a browser would follow to evil.example. Anything else falls back.
 */
export function safeRedirect(target: FormDataEntryValue | string | null | undefined, fallback = "/projects"): string {
  if (typeof target !== "string" || !target.startsWith("/")) return fallback;
  let url: URL;
  try {
    url = new URL(target, BASE);
  } catch {
    return fallback;
  }
  if (url.origin !== BASE) return fallback;
  const path = `${url.pathname}${url.search}${url.hash}`;
  // Sent back as a Location header the path is resolved again: it must land on this origin that time too.
  if (path.startsWith("//") || new URL(path, BASE).origin !== BASE) return fallback;
  return path;
}
