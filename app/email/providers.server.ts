import nodemailer from "nodemailer";
import { Resend } from "resend";
import { emailProviderName, type Config } from "~/lib/config.server";
import type { EmailProvider } from "~/models/email-deliveries.server";

/** One message as every provider takes it. */
export interface OutgoingEmail {
  deliveryId: string;
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  /** Resend tags (ASCII letters, digits, _ and -); the same ids travel in X-Many-Futures-* headers for the others. */
  tags: { name: string; value: string }[];
}

export type SendOutcome =
  /** Accepted; one provider id per message, in order (null when the provider gives none). */
  | { ok: true; providerMessageIds: (string | null)[] }
  /** Not accepted. `retryable` for rate limits, 5xx and network failures; `retryAfterMs` from Retry-After. */
  | { ok: false; retryable: boolean; retryAfterMs?: number; error: string };

export interface EmailProviderClient {
  name: EmailProvider;
  /** Messages one request may carry. */
  maxBatchSize: number;
  requestsPerSecond: number;
  /** Sends the messages in one request. `idempotencyKey` is the same every time the same request is repeated. */
  send(messages: OutgoingEmail[], idempotencyKey: string): Promise<SendOutcome>;
  close?(): Promise<void>;
}

/** Retry-After as seconds or an HTTP date, in milliseconds. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

interface ResendError {
  name?: string;
  message?: string;
  statusCode?: number | null;
}

/**
 * Resend through its SDK: one message through POST /emails, several through POST /emails/batch (up to 100).
 * The SDK answers errors as values; 429 and 5xx, and requests that never got an answer, are worth retrying.
 */
export function resendProvider(options: { apiKey: string; baseUrl?: string; requestsPerSecond: number; batchSize: number }): EmailProviderClient {
  const resend = new Resend(options.apiKey, options.baseUrl ? { baseUrl: options.baseUrl.replace(/\/+$/, "") } : undefined);
  const toApi = (message: OutgoingEmail) => ({
    from: message.from,
    to: [message.to],
    subject: message.subject,
    html: message.html,
    text: message.text,
    headers: message.headers,
    tags: message.tags,
  });
  const failure = (error: ResendError, headers: Record<string, string> | null): SendOutcome => {
    const status = error.statusCode ?? null;
    const retryable = status === null || status === 429 || status >= 500 || error.name === "rate_limit_exceeded";
    return {
      ok: false,
      retryable,
      retryAfterMs: parseRetryAfter(headers?.["retry-after"]),
      error: `Resend ${status ?? "unreachable"} ${error.name ?? "error"}: ${error.message ?? ""}`.trim(),
    };
  };
  return {
    name: "resend",
    maxBatchSize: Math.min(100, options.batchSize),
    requestsPerSecond: options.requestsPerSecond,
    async send(messages, idempotencyKey) {
      if (messages.length === 1) {
        const { data, error, headers } = await resend.emails.send(toApi(messages[0]!), { idempotencyKey });
        if (error) return failure(error as ResendError, headers);
        return { ok: true, providerMessageIds: [data?.id ?? null] };
      }
      const { data, error, headers } = await resend.batch.send(messages.map(toApi), { idempotencyKey });
      if (error) return failure(error as ResendError, headers);
      const ids = data?.data ?? [];
      return { ok: true, providerMessageIds: messages.map((_, index) => ids[index]?.id ?? null) };
    },
  };
}

interface SmtpError extends Error {
  responseCode?: number;
  code?: string;
}

/**
 * SMTP through nodemailer, one message per request: self-hosters' own servers, Mailpit in development. SMTP has
 * no idempotency keys; the Message-ID is the delivery's, so a repeat after a crash is recognisable downstream.
 */
export function smtpProvider(options: { url: string; requestsPerSecond: number }): EmailProviderClient {
  const transport = nodemailer.createTransport(options.url);
  return {
    name: "smtp",
    maxBatchSize: 1,
    requestsPerSecond: options.requestsPerSecond,
    async send(messages) {
      const ids: (string | null)[] = [];
      for (const message of messages) {
        const domain = /@([^>\s]+)>?\s*$/.exec(message.from)?.[1] ?? "localhost";
        try {
          const info = await transport.sendMail({
            from: message.from,
            to: message.to,
            subject: message.subject,
            html: message.html,
            text: message.text,
            messageId: `<${message.deliveryId}@${domain}>`,
            headers: message.headers,
          });
          ids.push(info.messageId ?? null);
        } catch (caught) {
          const error = caught as SmtpError;
          // 4xx replies and connection trouble are temporary; 5xx replies are the server's final word.
          const retryable = error.responseCode === undefined || error.responseCode < 500;
          return { ok: false, retryable, error: `SMTP ${error.responseCode ?? error.code ?? "error"}: ${error.message}`.slice(0, 1000) };
        }
      }
      return { ok: true, providerMessageIds: ids };
    },
    async close() {
      transport.close();
    },
  };
}

/** The built-in outbox: nothing leaves the machine; /dev/outbox shows what would have been sent. */
export function outboxProvider(): EmailProviderClient {
  return {
    name: "outbox",
    maxBatchSize: 100,
    requestsPerSecond: 1000,
    async send(messages) {
      return { ok: true, providerMessageIds: messages.map(() => null) };
    },
  };
}

/** Resend when RESEND_API_KEY is set, SMTP when SMTP_URL is set, otherwise the built-in outbox. */
export function selectEmailProvider(config: Config): EmailProviderClient {
  switch (emailProviderName(config)) {
    case "resend":
      return resendProvider({
        apiKey: config.RESEND_API_KEY!,
        baseUrl: config.RESEND_BASE_URL,
        requestsPerSecond: config.RESEND_REQUESTS_PER_SECOND,
        batchSize: config.EMAIL_BATCH_SIZE,
      });
    case "smtp":
      return smtpProvider({ url: config.SMTP_URL!, requestsPerSecond: config.SMTP_REQUESTS_PER_SECOND });
    case "outbox":
      return outboxProvider();
  }
}
