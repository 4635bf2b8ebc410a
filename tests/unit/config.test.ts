import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../app/lib/config.server";

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
