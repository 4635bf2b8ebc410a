import type { Config } from "~/lib/config.server";
import { llmSettings, priceFor, type LlmConfig, type LlmSettings } from "./llm.server";
import { maxPromptChars } from "./prompts";

/** Characters per token assumed for our own prompt text: English runs near four, so three leaves headroom. */
const CHARS_PER_TOKEN = 3;

/** The calls one episode can make at most, each with the most tokens it can read and write. */
export function episodeCallLimits(
  settings: LlmSettings,
): { agent: "research" | "writer" | "qa"; promptTokens: number; completionTokens: number }[] {
  const { research, writing, review } = settings.maxTokens;
  const ours = (stage: Parameters<typeof maxPromptChars>[0]) => Math.ceil(maxPromptChars(stage) / CHARS_PER_TOKEN);
  // Model output fed back into a later prompt (research, a draft, review notes) is bounded by its stage's max tokens.
  const reviewCall = { agent: "qa" as const, promptTokens: ours("review") + research + writing, completionTokens: review };
  return [
    { agent: "research", promptTokens: ours("research"), completionTokens: research },
    { agent: "writer", promptTokens: ours("writer") + research, completionTokens: writing },
    reviewCall,
    { agent: "writer", promptTokens: ours("revision") + research + writing + review, completionTokens: writing },
    reviewCall,
  ];
}

/**
 * The most one built-in episode can cost, in integer micro-GBP: the configured model's prices times the most
 * tokens of every call it may make (research, writing, review, and a revision's writing and review). Zero with no
 * model configured (offline previews are free) or for a model LLM_PRICES does not list.
 */
export function estimateMaxCostGbpMicros(config: Partial<LlmConfig>): number {
  const settings = llmSettings(config);
  if (!settings) return 0;
  const price = priceFor(settings.prices, settings.model);
  if (!price) return 0;
  const total = episodeCallLimits(settings).reduce(
    (sum, call) => sum + call.promptTokens * price.prompt + call.completionTokens * price.completion,
    0,
  );
  return Math.ceil(total);
}

/**
 * What the budget reserves for one generation and n8n is told as `maxCostGBP`. With n8n: N8N_MODEL (the model its
 * agents use) priced from LLM_PRICES, times N8N_MAX_TOKENS_* per stage (the ceilings its workflow declares), over
 * the same calls the built-in pipeline can make. Otherwise the built-in pipeline's own ceiling. Zero when the
 * model has no price: the budget then still stops dispatch once the day's spend reaches the limit.
 */
export function estimateGenerationCostGbpMicros(config: Config): number {
  if (!config.GENERATION_WEBHOOK_URL) return estimateMaxCostGbpMicros(config);
  const model = config.N8N_MODEL ?? config.LLM_MODEL;
  if (!model) return 0;
  return estimateMaxCostGbpMicros({
    // The n8n workflow calls its model server itself; the estimate needs only a model name and its prices.
    LLM_BASE_URL: config.GENERATION_WEBHOOK_URL,
    LLM_MODEL: model,
    LLM_PRICES: config.LLM_PRICES,
    LLM_MAX_TOKENS_RESEARCH: config.N8N_MAX_TOKENS_RESEARCH,
    LLM_MAX_TOKENS_WRITING: config.N8N_MAX_TOKENS_WRITING,
    LLM_MAX_TOKENS_REVIEW: config.N8N_MAX_TOKENS_REVIEW,
  });
}
