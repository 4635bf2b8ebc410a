import { z } from "zod";

const port = (fallback: number) =>
  z.coerce
    .number({ error: "must be a port number" })
    .int("must be a whole number")
    .min(0, "must be between 0 and 65535")
    .max(65535, "must be between 0 and 65535")
    .default(fallback);

const booleanFlag = (fallback: boolean) =>
  z.stringbool({ error: 'must be "true" or "false"' }).default(fallback);

/** `false` (the default), `true` (trust every proxy: only when nothing can reach the app but your proxies) or a hop count. */
const trustProxy = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(true|false|\d{1,2})$/, 'must be "false", "true" or the number of proxies in front of the app, such as 1')
  .transform((value) => (value === "true" ? true : value === "false" || value === "0" ? false : Number(value)))
  .default(false);

/** The app's public origin: absolute links are built from it, and it is the one origin allowed to post forms. */
const appUrl = z
  .url({ protocol: /^https?$/, error: "must be an absolute http(s) URL such as https://example.com" })
  .refine((value) => {
    if (!URL.canParse(value)) return true; // z.url() has named the problem already
    const url = new URL(value);
    return url.pathname === "/" && !url.search && !url.hash && !url.username && !url.password;
  }, "must be an origin such as https://example.com, with no path, query or credentials")
  .transform((value) => new URL(value).origin);

const postgresUrl = z
  .url({ error: "must be a postgres:// or postgresql:// URL" })
  .refine((value) => /^postgres(ql)?:\/\//.test(value), "must be a postgres:// or postgresql:// URL");

/**
 * The host of the Clerk instance's frontend API, which a publishable key carries: `pk_test_` or `pk_live_`
 * followed by base64 of `<host>$`. Undefined when the key does not decode to a host name.
 */
export function clerkFrontendApiHost(publishableKey: string): string | undefined {
  const encoded = /^pk_(?:test|live)_([A-Za-z0-9+/=_-]+)$/.exec(publishableKey)?.[1];
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  const host = decoded.endsWith("$") ? decoded.slice(0, -1) : "";
  return /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(host) ? host.toLowerCase() : undefined;
}

/** A duration such as "10m", "90s", "1500ms" or plain seconds ("600"), as milliseconds. */
const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
      if (!match) {
        ctx.addIssue({ code: "custom", message: 'must be a duration such as "10m", "90s" or "1500ms"' });
        return z.NEVER;
      }
      const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? "s") as "ms" | "s" | "m" | "h"];
      return Math.round(Number(match[1]) * unit);
    });

const llmPrice = z.strictObject({
  prompt: z.number().min(0).max(10_000),
  completion: z.number().min(0).max(10_000),
});

/** `{"<model>": {"prompt": <GBP per million tokens>, "completion": <GBP per million tokens>}}`, as JSON text. */
const llmPrices = z
  .string()
  .default("{}")
  .transform((value, ctx) => {
    const example = 'must be JSON such as {"gpt-4o-mini": {"prompt": 0.12, "completion": 0.48}} (GBP per million tokens)';
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      ctx.addIssue({ code: "custom", message: example });
      return z.NEVER;
    }
    const result = z.record(z.string().min(1), llmPrice).safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue.path.length ? ` (${issue.path.map(String).join(".")})` : "";
      ctx.addIssue({ code: "custom", message: `${example}${where}` });
      return z.NEVER;
    }
    return result.data;
  });

const maxTokens = (fallback: number) => z.coerce.number().int().min(16).max(1_000_000).default(fallback);

/** Every setting the app reads from the environment; `.env.example` documents each one. */
export const configSchema = z
  .object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  HOST: z.string().min(1).default("0.0.0.0"),
  PORT: port(3000),
  APP_ROLE: z.enum(["all", "web", "worker"]).default("all"),
  APP_URL: appUrl.optional(),
  TRUST_PROXY: trustProxy,
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  DATABASE_URL: postgresUrl.optional(),
  DATABASE_DIRECT_URL: postgresUrl.optional(),
  DATABASE_POOLED: booleanFlag(false),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  MIGRATE_ON_START: booleanFlag(true),
  EMBEDDED_DATABASE_DIR: z.string().min(1).default(".data/postgres"),
  EMBEDDED_DATABASE_PORT: port(54329),
  SESSION_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  SESSION_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  CLERK_PUBLISHABLE_KEY: z
    .string()
    .regex(/^pk_(test|live)_[A-Za-z0-9+/=_-]+$/, "must be a Clerk publishable key (pk_test_… or pk_live_…)")
    .optional(),
  CLERK_SECRET_KEY: z.string().regex(/^sk_(test|live)_\S+$/, "must be a Clerk secret key (sk_test_… or sk_live_…)").optional(),
  CLERK_JWT_KEY: z.string().includes("BEGIN PUBLIC KEY", { message: "must be a PEM public key" }).optional(),
  CLERK_WEBHOOK_SIGNING_SECRET: z.string().startsWith("whsec_", "must start with whsec_").optional(),
  CLERK_API_URL: z.url({ error: "must be an absolute URL such as https://api.clerk.com" }).optional(),
  // Generation: n8n when GENERATION_WEBHOOK_URL is set, otherwise the built-in pipeline.
  GENERATION_WEBHOOK_URL: z.url({ error: "must be an absolute URL such as https://n8n.example.com/webhook/episodes" }).optional(),
  GENERATION_WEBHOOK_SECRET: z.string().regex(/^whsec_[A-Za-z0-9+/=]{24,}$/, "must be a Standard Webhooks secret (whsec_ then base64)").optional(),
  GENERATION_DISPATCH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  GENERATION_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  GENERATION_TIMEOUT: duration("10m"),
  GENERATION_RETRY_BASE_MS: z.coerce.number().int().min(10).max(600_000).default(5_000),
  GENERATION_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  SCHEDULER_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  QUEUE_POLL_INTERVAL_MS: z.coerce.number().int().min(50).max(600_000).default(5_000),
  // The offline writer's pause per step, so a person sees the stages advance.
  GENERATION_OFFLINE_STAGE_MS: z.coerce.number().int().min(0).max(60_000).default(2_500),
  // The built-in pipeline's language model: any OpenAI-compatible chat completions server (OpenAI, Ollama, vLLM, llama.cpp).
  LLM_BASE_URL: z
    .url({ protocol: /^https?$/, error: "must be the server's OpenAI-compatible base URL, such as https://api.openai.com/v1" })
    .refine((value) => !new URL(value).username && !new URL(value).password, "must not hold credentials: put the key in LLM_API_KEY")
    .optional(),
  LLM_API_KEY: z.string().max(1000).optional(),
  LLM_MODEL: z.string().max(200).optional(),
  LLM_PRICES: llmPrices,
  LLM_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(120_000),
  LLM_MAX_TOKENS_RESEARCH: maxTokens(1_500),
  LLM_MAX_TOKENS_WRITING: maxTokens(3_000),
  LLM_MAX_TOKENS_REVIEW: maxTokens(800),
  LLM_JSON_MODE: booleanFlag(true),
  // Email: Resend when RESEND_API_KEY is set, SMTP when SMTP_URL is set, otherwise the built-in outbox (nothing leaves).
  RESEND_API_KEY: z.string().regex(/^re_\S+$/, "must be a Resend API key (re_…)").optional(),
  RESEND_BASE_URL: z.url({ protocol: /^https?$/, error: "must be an absolute URL such as https://api.resend.com" }).optional(),
  RESEND_WEBHOOK_SECRET: z.string().startsWith("whsec_", "must start with whsec_").optional(),
  // Resend's default limit is 2 requests a second per team; the sender stays under it.
  RESEND_REQUESTS_PER_SECOND: z.coerce.number().min(0.1).max(1000).default(2),
  SMTP_URL: z
    .url({ protocol: /^smtps?$/, error: "must be an smtp:// or smtps:// URL such as smtp://user:pass@mail.example.com:587" })
    .optional(),
  SMTP_REQUESTS_PER_SECOND: z.coerce.number().min(0.1).max(10_000).default(20),
  EMAIL_FROM: z.string().min(3).max(320).default("Many Futures <episodes@localhost>"),
  // Where List-Unsubscribe's mailto goes; unsubscribe@<APP_URL host> when unset.
  EMAIL_UNSUBSCRIBE_MAILTO: z.email({ error: "must be an email address" }).optional(),
  EMAIL_LINK_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  EMAIL_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  EMAIL_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(30_000),
  EMAIL_LEASE_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(120_000),
  EMAIL_POLL_INTERVAL_MS: z.coerce.number().int().min(50).max(600_000).default(2_000),
  EMAIL_BATCH_SIZE: z.coerce.number().int().min(1).max(100).default(100),
  })
  .superRefine((config, ctx) => {
    if (config.CLERK_PUBLISHABLE_KEY && !clerkFrontendApiHost(config.CLERK_PUBLISHABLE_KEY)) {
      ctx.addIssue({ code: "custom", path: ["CLERK_PUBLISHABLE_KEY"], message: "does not name a Clerk frontend API host" });
    }
    // Clerk mode needs both keys; one alone is a half-finished setup, not a reason to fall back silently.
    if (!!config.CLERK_PUBLISHABLE_KEY !== !!config.CLERK_SECRET_KEY) {
      const missing = config.CLERK_PUBLISHABLE_KEY ? "CLERK_SECRET_KEY" : "CLERK_PUBLISHABLE_KEY";
      ctx.addIssue({ code: "custom", path: [missing], message: "must be set too: Clerk needs both keys" });
    }
    // n8n without a signing secret would accept forged callbacks: refuse rather than run open.
    if (config.GENERATION_WEBHOOK_URL && !config.GENERATION_WEBHOOK_SECRET) {
      ctx.addIssue({ code: "custom", path: ["GENERATION_WEBHOOK_SECRET"], message: "must be set when GENERATION_WEBHOOK_URL is set" });
    }
    // Half a model setup would silently fall back to offline previews: name what is missing instead.
    if (!!config.LLM_BASE_URL !== !!config.LLM_MODEL) {
      const missing = config.LLM_BASE_URL ? "LLM_MODEL" : "LLM_BASE_URL";
      ctx.addIssue({ code: "custom", path: [missing], message: "must be set too: the language model needs LLM_BASE_URL and LLM_MODEL" });
    }
    if (config.RESEND_API_KEY && config.SMTP_URL) {
      ctx.addIssue({ code: "custom", path: ["SMTP_URL"], message: "must not be set with RESEND_API_KEY: choose one email provider" });
    }
    if (config.LLM_API_KEY && !config.LLM_BASE_URL) {
      ctx.addIssue({ code: "custom", path: ["LLM_BASE_URL"], message: "must be set when LLM_API_KEY is set (with LLM_MODEL)" });
    }
  });

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      `Invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join("\n")}\n` +
        "Fix these environment variables (see .env.example) and start again.",
    );
    this.name = "ConfigError";
  }
}

// Secrets are never echoed back into logs.
function describeValue(variable: string, value: string | undefined): string {
  if (value === undefined) return "nothing";
  return /SECRET|KEY|PASSWORD|URL/.test(variable) ? "a value that is not valid" : JSON.stringify(value);
}

/** Reads and validates the configuration; an empty variable counts as unset. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const result = configSchema.safeParse(present);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? "(environment)"),
        message: `${issue.message} (got ${describeValue(String(issue.path[0]), present[String(issue.path[0])])})`,
      })),
    );
  }
  return result.data;
}

let current: Config | undefined;

/** The process's configuration, validated once. server.ts validates it at start so errors surface there. */
export function getConfig(): Config {
  current ??= loadConfig();
  return current;
}

export type EmailProviderName = "resend" | "smtp" | "outbox";

/** Which provider sends email: Resend, SMTP, or the built-in outbox where nothing leaves the machine. */
export function emailProviderName(config: Config = getConfig()): EmailProviderName {
  if (config.RESEND_API_KEY) return "resend";
  if (config.SMTP_URL) return "smtp";
  return "outbox";
}

export function clerkEnabled(config: Config = getConfig()): boolean {
  return !!config.CLERK_PUBLISHABLE_KEY && !!config.CLERK_SECRET_KEY;
}
