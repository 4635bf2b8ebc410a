import { describe, expect, it } from "vitest";
import { redactPath } from "../../app/lib/redact-path";

describe("redactPath", () => {
  it.each([
    ["/invitations/Zq3k-9xY_token", "/invitations/[redacted]"],
    ["/invitations/Zq3k-9xY_token/accept", "/invitations/[redacted]"],
    ["/unsubscribe/abc", "/unsubscribe/[redacted]"],
    ["/confirm/abc", "/confirm/[redacted]"],
    ["/reset-password/abc", "/reset-password/[redacted]"],
    ["/feedback/abc", "/feedback/[redacted]"],
    ["/api/invitations/abc", "/api/invitations/[redacted]"],
    ["/INVITATIONS/abc", "/INVITATIONS/[redacted]"],
    ["/%69nvitations/abc", "/%69nvitations/[redacted]"],
    ["/invitations/abc?redirectTo=/x", "/invitations/[redacted]"],
  ])("%s is logged as %s", (path, logged) => {
    expect(redactPath(path)).toBe(logged);
  });

  it.each(["/invitations", "/invitations/", "/projects/6f1c/settings", "/organization", "/"])("leaves %s as it is", (path) => {
    expect(redactPath(path)).toBe(path);
  });

  it("drops the query string, which may carry tokens too", () => {
    expect(redactPath("/signin?redirectTo=%2Finvitations%2Fabc&token=abc")).toBe("/signin");
  });
});
