import { describe, expect, it } from "vitest";
import { checkDraft } from "../../app/generation/pipeline.server";
import {
  extractJson,
  normalizeUrl,
  parseDraft,
  parseResearch,
  parseReview,
  PROMPT_LIMITS,
  researchPrompt,
  reviewPrompt,
  screenLinks,
  writerPrompt,
} from "../../app/generation/prompts";

describe("reading JSON out of a model's answer", () => {
  it("takes the whole answer when it is JSON", () => {
    expect(extractJson('{"passed": true}')).toEqual({ passed: true });
  });

  it("takes a fenced block, with or without a language", () => {
    expect(extractJson('Here you are:\n```json\n{"a": 1}\n```\nAnything else?')).toEqual({ a: 1 });
    expect(extractJson('```\n{"a": 2}\n```')).toEqual({ a: 2 });
    // An example echoed in the prose before the fence is not the answer.
    expect(extractJson('An answer like {"passed": true} would pass it. Mine:\n```json\n{"passed": false}\n```')).toEqual({ passed: false });
  });

  it("finds the first balanced object in prose, ignoring braces inside strings", () => {
    expect(extractJson('Sure! {"notes": "use {braces} and \\"quotes\\"", "passed": false} Hope that helps.')).toEqual({
      notes: 'use {braces} and "quotes"',
      passed: false,
    });
    expect(extractJson('First {not json} then {"b": [1, {"c": 2}]}')).toEqual({ b: [1, { c: 2 }] });
  });

  it("ignores a reasoning model's thinking", () => {
    expect(extractJson('<think>Maybe {"passed": true}? No.</think>\n{"passed": false}')).toEqual({ passed: false });
  });

  it("returns nothing when there is no object: no text, a bare array, an unclosed brace", () => {
    expect(extractJson("I cannot help with that.")).toBeUndefined();
    expect(extractJson("[1, 2, 3]")).toBeUndefined();
    expect(extractJson('{"a": 1')).toBeUndefined();
  });
});

describe("research answers", () => {
  it("keeps findings and sources with usable http(s) URLs, de-duplicated", () => {
    const answer = JSON.stringify({
      findings: ["  Sodium-ion pilots\ndoubled in 2026. ", { text: "Grid codes changed." }, "Sodium-ion pilots doubled in 2026.", "", 42],
      sources: [
        { title: "IEA report", url: "https://www.iea.org/reports/storage", publisher: "IEA", publishedAt: "2026-10-01" },
        { title: "Same report", url: "https://WWW.IEA.org/reports/storage/#top" },
        { name: "Named only", url: "https://example.org/a", source: "Example", date: "2026" },
        { title: "Relative", url: "/reports/x" },
        { title: "Script", url: "javascript:alert(1)" },
        { title: "No URL" },
      ],
    });
    expect(parseResearch(`\`\`\`json\n${answer}\n\`\`\``)).toEqual({
      ok: true,
      findings: ["Sodium-ion pilots doubled in 2026.", "Grid codes changed."],
      sources: [
        { title: "IEA report", url: "https://www.iea.org/reports/storage", publisher: "IEA", publishedAt: "2026-10-01" },
        { title: "Named only", url: "https://example.org/a", publisher: "Example", publishedAt: "2026" },
      ],
    });
  });

  it("caps what it keeps and clips long findings", () => {
    const answer = JSON.stringify({
      findings: Array.from({ length: 30 }, (_, i) => `Finding ${i} ${"x".repeat(1000)}`),
      sources: Array.from({ length: 30 }, (_, i) => ({ title: `S${i}`, url: `https://example.org/${i}` })),
    });
    const parsed = parseResearch(answer);
    if (!parsed.ok) throw new Error("not parsed");
    expect(parsed.findings).toHaveLength(PROMPT_LIMITS.findings);
    expect(parsed.findings[0].length).toBe(PROMPT_LIMITS.findingChars);
    expect(parsed.sources).toHaveLength(PROMPT_LIMITS.sources);
  });

  it("says why an answer is unusable", () => {
    expect(parseResearch("Here are some thoughts.")).toEqual({ ok: false, reason: "no JSON object in the answer" });
    expect(parseResearch('{"findings": [], "sources": "none"}')).toEqual({ ok: false, reason: "no findings and no sources" });
  });
});

describe("drafts", () => {
  it("splits the title line, the summary paragraph and the body", () => {
    const draft = parseDraft("# Storage gets cheaper\n\nSodium-ion costs fell. That changes your 2030 plan.\n\n## What changed\n\nMore pilots.");
    expect(draft).toEqual({
      title: "Storage gets cheaper",
      summary: "Sodium-ion costs fell. That changes your 2030 plan.",
      content: "Sodium-ion costs fell. That changes your 2030 plan.\n\n## What changed\n\nMore pilots.",
    });
  });

  it("reads a fenced draft, a labelled title and summary, and drops thinking", () => {
    const draft = parseDraft("<think>plan</think>\n```markdown\n**Title:** **Grid week**\n\n**Summary:** Two things moved.\n\n## Body\n\nText.\n```");
    expect(draft).toEqual({ title: "Grid week", summary: "Two things moved.", content: "Two things moved.\n\n## Body\n\nText." });
  });

  it("has no title or summary when the writer gave none", () => {
    expect(parseDraft("## Only a section\n\n- a list")).toEqual({ title: null, summary: null, content: "## Only a section\n\n- a list" });
    expect(parseDraft("   ")).toEqual({ title: null, summary: null, content: "" });
  });
});

describe("review verdicts", () => {
  it("reads passed, notes and problems, loosely typed", () => {
    expect(parseReview('{"passed": "false", "notes": ["Too long.", "Cite more."], "problems": [{"description": "Claim X is unsupported"}, "Y"]}')).toEqual({
      readable: true,
      passed: false,
      notes: "Too long. Cite more.",
      problems: ["Claim X is unsupported", "Y"],
    });
    expect(parseReview('{"passed": true}')).toEqual({ readable: true, passed: true, notes: "", problems: [] });
  });

  it("fails a verdict it cannot read", () => {
    expect(parseReview("Looks good to me!")).toMatchObject({ readable: false, passed: false });
    expect(parseReview('{"passed": "probably"}')).toMatchObject({ readable: false, passed: false });
  });
});

describe("the app's own check of links in a draft", () => {
  const allowed = ["https://www.iea.org/reports/storage", "https://en.wikipedia.org/wiki/Battery_(electricity)", "https://example.org/"];

  it("allows links to research's sources, written loosely (trailing slash, fragment, host case)", () => {
    const draft = [
      "See [the IEA](https://www.iea.org/reports/storage/) and [Wikipedia](https://en.wikipedia.org/wiki/Battery_(electricity)).",
      "Also <https://EXAMPLE.org> and https://www.iea.org/reports/storage#key-findings.",
      "Jump to [below](#signposts).",
    ].join("\n");
    expect(screenLinks(draft, allowed)).toEqual({ invented: [], cleaned: draft });
  });

  it("finds every other target: inline links, bare URLs, autolinks, reference definitions, scheme-less links", () => {
    const draft = [
      "A [made-up study](https://invented.example/study) says so.",
      "So does https://another.example/x, and <https://third.example/y>.",
      "A longer path is another page: [x](https://www.iea.org/reports/storage-2).",
      "[ref]: https://ref.example/z",
      "[relative](/somewhere) and [no scheme](www.fourth.example).",
    ].join("\n");
    const { invented, cleaned } = screenLinks(draft, allowed);
    expect(invented).toEqual([
      "https://invented.example/study",
      "https://www.iea.org/reports/storage-2",
      "/somewhere",
      "www.fourth.example",
      "https://ref.example/z",
      "https://another.example/x",
      "https://third.example/y",
    ]);
    expect(cleaned).not.toMatch(/invented\.example|another\.example|third\.example|ref\.example|storage-2|somewhere|fourth/);
    expect(cleaned).toContain("A made-up study says so.");
    expect(screenLinks(cleaned, allowed).invented).toEqual([]);
  });

  it("catches an invented URL used as the text of an allowed link", () => {
    expect(screenLinks("[https://fake.example/a](https://example.org/)", allowed).invented).toEqual(["https://fake.example/a"]);
  });

  it("normalizes only what does not change the page", () => {
    expect(normalizeUrl("HTTPS://Example.org/a/#x")).toBe("https://example.org/a");
    expect(normalizeUrl("https://example.org/a?b=1")).not.toBe(normalizeUrl("https://example.org/a?b=2"));
  });

  it("refuses an empty draft, one cut off, and one with invented links", () => {
    const research = { findings: ["f"], sources: [{ title: "IEA", url: allowed[0], publisher: null, publishedAt: null }] };
    expect(checkDraft({ title: "T", summary: null, content: "  \n## \n" }, research, "stop")).toEqual(["The draft is empty."]);
    expect(checkDraft({ title: "T", summary: "S", content: "S\n\nBody" }, research, "length")).toEqual([
      expect.stringContaining("cut off at the token limit"),
    ]);
    expect(checkDraft({ title: "T", summary: "S", content: "See https://invented.example/a." }, research, "stop")).toEqual([
      expect.stringContaining("https://invented.example/a"),
    ]);
    expect(checkDraft({ title: "T", summary: "S", content: `See [IEA](${allowed[0]}).` }, research, "stop")).toEqual([]);
  });
});

describe("prompts", () => {
  const input = {
    brief: "# Grid storage\n\n## Time horizon\n\n2030",
    planningNotes: Array.from({ length: 10 }, (_, i) => `Note ${i}`),
    recentEpisodes: [{ title: "Last week", summary: "Pilots grew.", publishedAt: "2026-11-18T09:00:00.000Z" }],
  };
  const research = { findings: ["Costs fell."], sources: [{ title: "IEA", url: "https://www.iea.org/r", publisher: "IEA", publishedAt: "2026-10-01" }] };

  it("gives each stage the project's material, within limits, and only research's URLs to the writer", () => {
    const [system, user] = researchPrompt(input, new Date("2026-11-25T00:00:00Z"));
    expect(system.content).toContain("Futura");
    expect(system.content).toContain('"findings"');
    expect(user.content).toContain("Today is 2026-11-25.");
    expect(user.content).toContain("<brief>\n# Grid storage");
    expect(user.content).toContain("Note 9");
    expect(user.content).not.toContain("Note 3");
    expect(user.content).toContain("2026-11-18: Last week (Pilots grew.)");

    const writer = writerPrompt(input, research);
    expect(writer[1].content).toContain("Sources (the only URLs you may link to):\n- IEA, IEA, 2026-10-01: https://www.iea.org/r");
    const revision = writerPrompt(input, research, { draft: "# Old", review: { notes: "Unsupported claim.", problems: ["Claim X"] } });
    expect(revision.map((m) => m.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(revision[3].content).toContain("Unsupported claim.");
    expect(revision[3].content).toContain("- Claim X");

    const review = reviewPrompt(input, research, "# Draft\n\nText");
    expect(review[1].content).toContain("<draft>\n# Draft\n\nText\n</draft>");
    expect(review[0].content).toContain('"passed"');
  });
});
