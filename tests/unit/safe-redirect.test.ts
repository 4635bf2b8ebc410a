import { describe, expect, it } from "vitest";
import { safeRedirect } from "../../app/lib/safe-redirect";

describe("safeRedirect", () => {
  it.each([
    "/.//evil.example",
    "/..//evil.example",
    "/%2e//evil.example",
    "/%2E%2E//evil.example",
    "/x/..//evil.example",
    "/x/%2e%2e//evil.example/path",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "https://evil.example",
    "http://evil.example/projects",
    "javascript:alert(1)",
    "evil.example",
    "",
    " /projects",
  ])("sends %j to the default", (target) => {
    expect(safeRedirect(target)).toBe("/projects");
    expect(safeRedirect(target, "/organization")).toBe("/organization");
  });

  it.each([
    ["/projects/123/settings", "/projects/123/settings"],
    ["/organization?tab=members#invite", "/organization?tab=members#invite"],
    ["/invitations/abc_DEF-123", "/invitations/abc_DEF-123"],
    // Dot segments resolve the way a browser resolves them, and stay on this site.
    ["/x/../projects", "/projects"],
    ["/%2e%2e/projects", "/projects"],
    // An encoded slash is not a slash: the browser sends it as it is.
    ["/%2F%2Fevil.example", "/%2F%2Fevil.example"],
  ])("keeps %j on this site as %j", (target, expected) => {
    expect(safeRedirect(target)).toBe(expected);
  });

  it("falls back when there is no target at all", () => {
    expect(safeRedirect(null)).toBe("/projects");
    expect(safeRedirect(undefined)).toBe("/projects");
  });

  it("every path it returns resolves to this site in a browser", () => {
    const base = "https://futures.example";
    for (const target of ["/.//evil.example", "/a/b/../..//evil.example", "/ok", "/%5c%5cevil.example"]) {
      expect(new URL(safeRedirect(target), base).origin).toBe(base);
    }
  });
});
