/**
 * Path segments after which everything is a secret (a token that works as a password for whoever holds the
 * link). The access log, and any other log line that records a path, keeps the segment and redacts the rest.
 * A new link that carries a token in its path adds its segment here.
 */
const SECRET_PATH_SEGMENTS: readonly string[] = [
  "invitations", // /invitations/<token>
  "unsubscribe", // /unsubscribe/<token> (issue 10)
  "confirm", // /confirm/<token>: email confirmation
  "reset-password", // /reset-password/<token>
  "verify-email", // /verify-email/<token>: a new account's address
  "sign-in-link", // /sign-in-link/<token>: sent instead of a second account
  "feedback", // /feedback/<token>: one-click episode feedback
];

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment).toLowerCase();
  } catch {
    return segment.toLowerCase();
  }
}

/**
 * The path with everything after a secret segment replaced by `[redacted]` (`/invitations/abc` →
 * `/invitations/[redacted]`). The query string and fragment are dropped: they may carry tokens too. Segments are
 * compared decoded and in any case, as the router compares them.
 */
export function redactPath(pathWithQuery: string): string {
  const [path] = pathWithQuery.split(/[?#]/, 1);
  const segments = path.split("/");
  const secretAt = segments.findIndex((segment, index) => index < segments.length - 1 && SECRET_PATH_SEGMENTS.includes(decodeSegment(segment)));
  if (secretAt === -1 || segments.slice(secretAt + 1).join("") === "") return path;
  return [...segments.slice(0, secretAt + 1), "[redacted]"].join("/");
}
