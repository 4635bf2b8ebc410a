import { z } from "zod";

/**
 * The messages between the app and a generator (n8n, or the built-in pipeline speaking the same language).
 * docs/n8n.md shows an example of each.
 */

/** What the app sends to start an episode: everything the agents need, so n8n never reads our database. */
export interface GenerationRequest {
  episodeId: string;
  projectId: string;
  organizationId: string;
  attempt: number;
  brief: string;
  planningNotes: string[];
  recentEpisodes: { title: string; summary: string | null; publishedAt: string }[];
  callbackUrl: string;
  maxCostGBP: number;
}

const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !value.includes("\u0000"), "must not contain NUL characters");

const source = z.object({
  title: text(500).min(1),
  url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).max(2000),
  publisher: text(200).nullish(),
  publishedAt: text(100).nullish(),
});

const stage = z.enum(["research", "writing", "review"]);

const envelope = {
  episodeId: z.uuid(),
  organizationId: z.uuid(),
  attempt: z.number().int().min(1),
};

export const progressMessage = z.object({
  type: z.literal("progress"),
  ...envelope,
  stage,
  message: text(500).min(1),
  percent: z.number().min(0).max(100),
  findings: z.array(text(2000)).max(50).optional(),
  sources: z.array(source).max(50).optional(),
});

export const tokenUsageEntry = z.object({
  callId: text(200).min(1),
  agent: z.enum(["research", "writer", "qa"]),
  model: text(200).min(1),
  promptTokens: z.number().int().min(0).max(10_000_000),
  completionTokens: z.number().int().min(0).max(10_000_000),
  costGBP: z.number().min(0).max(10_000),
});

export const completedMessage = z.object({
  type: z.literal("completed"),
  ...envelope,
  title: text(300).min(1),
  summary: text(2000).min(1),
  content: text(200_000).min(1),
  sources: z.array(source).max(100),
  qa: z.object({ passed: z.boolean(), notes: text(5000) }),
  tokenUsage: z.array(tokenUsageEntry).max(100),
});

export const failedMessage = z.object({
  type: z.literal("failed"),
  ...envelope,
  error: text(2000).min(1),
  retryable: z.boolean(),
});

export const callbackMessage = z.discriminatedUnion("type", [progressMessage, completedMessage, failedMessage], {
  error: 'type must be "progress", "completed" or "failed"',
});

export type ProgressMessage = z.infer<typeof progressMessage>;
export type CompletedMessage = z.infer<typeof completedMessage>;
export type FailedMessage = z.infer<typeof failedMessage>;
export type CallbackMessage = z.infer<typeof callbackMessage>;
