/**
 * Futura's scripted interview: one question at a time, each answer kept, then a brief assembled from them.
 * Shared by the server (which stores answers) and the page (which shows the transcript).
 */
export const QUESTIONS = [
  {
    key: "topic",
    label: "Topic or question",
    prompt: "Hello, I'm Futura. What topic or question would you like me to watch for you?",
    hint: "For example: “How will small modular reactors change Europe's energy mix?”",
  },
  {
    key: "purpose",
    label: "Why it matters",
    prompt: "Why does this matter to you, and which decision will it help you make?",
    hint: "The decision shapes what I look for and what I leave out.",
  },
  {
    key: "reader",
    label: "Your role and organization",
    prompt: "What is your role, and what kind of organization are you in?",
    hint: "For example: “Head of strategy at a regional utility.”",
  },
  {
    key: "horizon",
    label: "Time horizon",
    prompt: "How far ahead should I look?",
    hint: "For example: “The next 18 months”, or “2030 to 2040”.",
  },
  {
    key: "scope",
    label: "Regions and sectors",
    prompt: "Which regions and sectors are in scope?",
    hint: "Name what to include, and anything to leave out.",
  },
  {
    key: "sources",
    label: "Sources and signals",
    prompt: "Which sources or signals do you trust, and which should I treat with care?",
    hint: "Journals, agencies, analysts, patents, job postings, policy drafts…",
  },
  {
    key: "style",
    label: "Tone and length",
    prompt: "Last one: what tone and length suit you?",
    hint: "For example: “Plain and direct, a five-minute read.”",
  },
] as const;

export type QuestionKey = (typeof QUESTIONS)[number]["key"];
export type Answers = Partial<Record<QuestionKey, string>>;

export const MAX_ANSWER_LENGTH = 2000;

export function isQuestionKey(value: unknown): value is QuestionKey {
  return QUESTIONS.some((q) => q.key === value);
}

/** The first question still unanswered, or null when the interview is complete. */
export function nextQuestion(answers: Answers) {
  return QUESTIONS.find((q) => !answers[q.key]?.trim()) ?? null;
}

function titleFrom(topic: string): string {
  const firstLine = topic.trim().split("\n")[0].replace(/[?.!]+$/, "");
  return firstLine.length <= 120 ? firstLine : `${firstLine.slice(0, 117).trimEnd()}…`;
}

/** A title and a markdown brief from the answers; the person edits both before confirming. */
export function assembleBrief(answers: Answers): { title: string; brief: string } {
  const sections = QUESTIONS.filter((q) => answers[q.key]?.trim()).map((q) => `## ${q.label}\n\n${answers[q.key]!.trim()}`);
  return { title: titleFrom(answers.topic ?? "Untitled project"), brief: sections.join("\n\n") };
}

/** The conversation as text, kept as the project's first planning note. */
export function transcript(answers: Answers): string {
  return QUESTIONS.filter((q) => answers[q.key]?.trim())
    .map((q) => `**Futura:** ${q.prompt}\n\n**You:** ${answers[q.key]!.trim()}`)
    .join("\n\n");
}
