import type { EpisodeRow, EpisodeSource, EpisodeStatus, GenerationStage } from "~/models/episodes.server";

/**
 * What a person watching an episode sees change: the page's first render and every server-sent event carry this
 * shape, so the client applies an event by replacing its state with the newer version. No content: once published
 * the page reloads its data.
 */
export interface EpisodeLiveState {
  id: string;
  status: EpisodeStatus;
  /** Increases with every change: the event id, so a reconnecting client resumes after it. */
  version: number;
  /** PUBLISHED or FAILED: nothing more will happen without a person asking. */
  final: boolean;
  stage: GenerationStage | null;
  percent: number;
  message: string | null;
  findings: string[];
  sources: EpisodeSource[];
  /** When the current attempt started (ISO), for the elapsed time. */
  startedAt: string | null;
  attempt: number;
  failureReason: string | null;
}

export const FINAL_STATUSES: readonly EpisodeStatus[] = ["PUBLISHED", "FAILED"];

export function isFinalStatus(status: EpisodeStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

export function episodeLiveState(row: EpisodeRow): EpisodeLiveState {
  return {
    id: row.id,
    status: row.status,
    version: row.version,
    final: isFinalStatus(row.status),
    stage: row.generationStage,
    percent: row.generationPercent,
    message: row.generationMessage,
    findings: row.generationFindings ?? [],
    sources: row.generationSources ?? [],
    startedAt: row.generationStartedAt ? row.generationStartedAt.toISOString() : null,
    attempt: row.generationAttempts,
    failureReason: row.failureReason,
  };
}
