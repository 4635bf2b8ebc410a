import { describe, expect, it } from "vitest";
import { absoluteUrl, appOrigin } from "../../app/lib/app-url.server";
import { clerkFrontendApiHost, ConfigError, emailProviderName, loadConfig } from "../../app/lib/config.server";

function problemsFor(env: Record<string, string>) {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a configuration error");
}

describe("configuration", () => {
  it("starts with nothing set: embedded database, port 3000, every role", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 3000,
      APP_ROLE: "all",
      DATABASE_POOLED: false,
      MIGRATE_ON_START: true,
      EMBEDDED_DATABASE_DIR: ".data/postgres",
    });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it("treats an empty variable as unset", () => {
    expect(loadConfig({ DATABASE_URL: "", PORT: "" }).PORT).toBe(3000);
  });

  it("reads booleans and numbers from their text", () => {
    const config = loadConfig({ DATABASE_POOLED: "true", MIGRATE_ON_START: "false", PORT: "8080" });
    expect(config).toMatchObject({ DATABASE_POOLED: true, MIGRATE_ON_START: false, PORT: 8080 });
  });

  it.each([
    ["PORT", "not-a-port"],
    ["PORT", "70000"],
    ["APP_ROLE", "scheduler"],
    ["DATABASE_POOLED", "yes please"],
    ["DATABASE_POOLED", "maybe"],
    ["LOG_LEVEL", "loud"],
  ])("names %s when it is %j", (variable, value) => {
    const problems = problemsFor({ [variable]: value });
    expect(problems.map((p) => p.variable)).toEqual([variable]);
    expect(problems[0].message).toContain(JSON.stringify(value));
  });

  it("lists every bad variable in one message", () => {
    try {
      loadConfig({ PORT: "x", APP_ROLE: "y" });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toMatch(/PORT: .*\n.*APP_ROLE: /);
      expect((error as Error).message).toContain(".env.example");
    }
  });
});

describe("Clerk settings", () => {
  it("needs both keys", () => {
    expect(problemsFor({ CLERK_PUBLISHABLE_KEY: "pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA" }).map((p) => p.variable)).toEqual([
      "CLERK_SECRET_KEY",
    ]);
  });

  it("never echoes a secret it rejects", () => {
    const [problem] = problemsFor({ CLERK_SECRET_KEY: "hunter2", CLERK_PUBLISHABLE_KEY: "pk_live_Y2xlcmsuZXhhbXBsZS50ZXN0JA" });
    expect(problem.variable).toBe("CLERK_SECRET_KEY");
    expect(problem.message).not.toContain("hunter2");
  });

  it("names a malformed DATABASE_URL without printing it", () => {
    const [problem] = problemsFor({ DATABASE_URL: "mysql://user:pw@localhost/db" });
    expect(problem.variable).toBe("DATABASE_URL");
    expect(problem.message).not.toContain("pw@");
  });
});

describe("the HTTP edge's settings", () => {
  it("trusts no proxy unless TRUST_PROXY says so", () => {
    expect(loadConfig({}).TRUST_PROXY).toBe(false);
    expect(loadConfig({ NODE_ENV: "production" }).TRUST_PROXY).toBe(false);
  });

  it.each([
    ["false", false],
    ["0", false],
    ["true", true],
    ["TRUE", true],
    ["1", 1],
    ["2", 2],
  ])("reads TRUST_PROXY=%s as %j", (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).TRUST_PROXY).toBe(expected);
  });

  it.each(["yes", "-1", "1.5", "loopback", "10.0.0.1"])("names TRUST_PROXY when it is %j", (value) => {
    const [problem] = problemsFor({ TRUST_PROXY: value });
    expect(problem.variable).toBe("TRUST_PROXY");
    expect(problem.message).toContain("number of proxies");
  });

  it("keeps APP_URL as an origin", () => {
    expect(loadConfig({ APP_URL: "https://Futures.Example/" }).APP_URL).toBe("https://futures.example");
    expect(loadConfig({ APP_URL: "http://localhost:8080" }).APP_URL).toBe("http://localhost:8080");
  });

  it.each(["futures.example", "ftp://futures.example", "https://futures.example/app", "https://user:pw@futures.example"])(
    "names APP_URL when it is %j",
    (value) => {
      expect(problemsFor({ APP_URL: value }).map((p) => p.variable)).toEqual(["APP_URL"]);
    },
  );
});

describe("absolute links", () => {
  it("come from APP_URL", () => {
    const config = loadConfig({ APP_URL: "https://futures.example", PORT: "8080" });
    expect(appOrigin(config)).toBe("https://futures.example");
    expect(absoluteUrl("/invitations/abc", config)).toBe("https://futures.example/invitations/abc");
  });

  it("default to http://localhost:PORT when APP_URL is unset", () => {
    expect(absoluteUrl("/invitations/abc", loadConfig({ PORT: "4321" }))).toBe("http://localhost:4321/invitations/abc");
  });

  it.each(["invitations/abc", "//evil.example/x", "https://evil.example/x"])("refuse %j, which is not a path of this app", (path) => {
    expect(() => absoluteUrl(path, loadConfig({}))).toThrow(/path/);
  });
});

describe("Clerk's frontend API host", () => {
  const key = (prefix: string, text: string) => `${prefix}${Buffer.from(text).toString("base64")}`;

  it("is read from the publishable key", () => {
    expect(clerkFrontendApiHost(key("pk_live_", "clerk.futures.example$"))).toBe("clerk.futures.example");
    expect(clerkFrontendApiHost(key("pk_test_", "happy-fox-12.clerk.accounts.dev$"))).toBe("happy-fox-12.clerk.accounts.dev");
  });

  it.each([
    key("pk_live_", "clerk.futures.example"),
    key("pk_live_", "localhost$"),
    key("pk_live_", "evil.example https://x.example$"),
    key("pk_live_", "evil.example;script-src *$"),
    "pk_live_",
    key("sk_live_", "clerk.futures.example$"),
  ])("is refused from %j", (publishableKey) => {
    expect(clerkFrontendApiHost(publishableKey)).toBeUndefined();
  });

  it("a key naming no host stops the start", () => {
    const problems = problemsFor({ CLERK_PUBLISHABLE_KEY: key("pk_live_", "localhost$"), CLERK_SECRET_KEY: "sk_live_x" });
    expect(problems.map((p) => p.variable)).toEqual(["CLERK_PUBLISHABLE_KEY"]);
  });
});

describe("email settings", () => {
  it("choose Resend, SMTP or the built-in outbox by what is set, and refuse both at once", () => {
    expect(emailProviderName(loadConfig({}))).toBe("outbox");
    expect(emailProviderName(loadConfig({ RESEND_API_KEY: "re_123" }))).toBe("resend");
    expect(emailProviderName(loadConfig({ SMTP_URL: "smtp://localhost:1025" }))).toBe("smtp");
    expect(() => loadConfig({ RESEND_API_KEY: "re_123", SMTP_URL: "smtp://localhost:1025" })).toThrow(/SMTP_URL: must not be set with RESEND_API_KEY/);
    expect(() => loadConfig({ SMTP_URL: "http://mail.example" })).toThrow(/SMTP_URL: must be an smtp:\/\/ or smtps:\/\/ URL/);
    expect(() => loadConfig({ EMAIL_LINK_SECRET: "short" })).toThrow(/EMAIL_LINK_SECRET: must be at least 32 characters/);
    expect(loadConfig({}).RESEND_REQUESTS_PER_SECOND).toBe(2);
  });
});
