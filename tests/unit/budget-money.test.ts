import { describe, expect, it } from "vitest";
import { estimateGenerationCostGbpMicros, estimateMaxCostGbpMicros } from "../../app/generation/cost.server";
import { generationSettings } from "../../app/generation/lifecycle.server";
import { loadConfig } from "../../app/lib/config.server";
import { exactGbp, formatGbp, parseGbp } from "../../app/lib/money";

describe("money in words and back", () => {
  it("shows integer micro-GBP as pounds and pence, and never a non-zero amount as £0.00", () => {
    expect(formatGbp(50_000_000)).toBe("£50.00");
    expect(formatGbp(12_345_678)).toBe("£12.35");
    expect(formatGbp(1_234_500_000)).toBe("£1,234.50");
    expect(formatGbp(0)).toBe("£0.00");
    expect(formatGbp(288)).toBe("under £0.01");
    expect(formatGbp(5_000)).toBe("£0.01");
  });

  it("writes exact pounds for exports", () => {
    expect(exactGbp(288)).toBe("0.000288");
    expect(exactGbp(1_234_567)).toBe("1.234567");
    expect(exactGbp(50_000_000)).toBe("50.000000");
  });

  it("reads what a person types as pounds, refusing anything else", () => {
    expect(parseGbp("50")).toBe(50_000_000);
    expect(parseGbp(" £12.34 ")).toBe(12_340_000);
    expect(parseGbp("12.5")).toBe(12_500_000);
    expect(parseGbp("1,234.56")).toBe(1_234_560_000);
    expect(parseGbp("0")).toBe(0);
    for (const bad of ["", "twelve", "-5", "12.345", "1e3", "12,34", "£", "0x10", "12..3"]) expect(parseGbp(bad), bad).toBeNull();
  });
});

describe("the generation's cost estimate", () => {
  const prices = '{"gpt-4o-mini": {"prompt": 0.12, "completion": 0.48}, "big": {"prompt": 2, "completion": 8}}';

  it("is the built-in pipeline's ceiling without n8n, and what the claim reserves and n8n is told", () => {
    const config = loadConfig({ LLM_BASE_URL: "https://api.openai.com/v1", LLM_MODEL: "gpt-4o-mini", LLM_PRICES: prices });
    expect(estimateGenerationCostGbpMicros(config)).toBe(estimateMaxCostGbpMicros(config));
    expect(estimateGenerationCostGbpMicros(config)).toBeGreaterThan(0);
    expect(generationSettings(config).maxCostGbpMicros).toBe(estimateGenerationCostGbpMicros(config));
    expect(generationSettings(loadConfig({})).maxCostGbpMicros).toBe(0);
  });

  it("with n8n, prices N8N_MODEL with N8N_MAX_TOKENS_* per stage", () => {
    const n8n = {
      GENERATION_WEBHOOK_URL: "https://n8n.example/webhook/episodes",
      GENERATION_WEBHOOK_SECRET: `whsec_${Buffer.alloc(24, 1).toString("base64")}`,
      LLM_PRICES: prices,
    };
    const small = estimateGenerationCostGbpMicros(loadConfig({ ...n8n, N8N_MODEL: "gpt-4o-mini" }));
    const big = estimateGenerationCostGbpMicros(loadConfig({ ...n8n, N8N_MODEL: "big" }));
    expect(small).toBeGreaterThan(0);
    expect(big).toBeGreaterThan(small * 10);
    const longer = estimateGenerationCostGbpMicros(loadConfig({ ...n8n, N8N_MODEL: "gpt-4o-mini", N8N_MAX_TOKENS_WRITING: "6000" }));
    expect(longer).toBeGreaterThan(small);
    // Unpriced, or no model named: nothing to reserve.
    expect(estimateGenerationCostGbpMicros(loadConfig({ ...n8n, N8N_MODEL: "unknown" }))).toBe(0);
    expect(estimateGenerationCostGbpMicros(loadConfig(n8n))).toBe(0);
    expect(() => loadConfig({ ...n8n, N8N_MAX_TOKENS_REVIEW: "3" })).toThrow(/N8N_MAX_TOKENS_REVIEW/);
  });
});
