import type { GenerationStage } from "~/models/episodes.server";
import type { EpisodeLiveState } from "~/realtime/episode-state";
import { useServerNow } from "./episode-live";
import { SourceList } from "./episode-sources";

const STEPS: { stage: GenerationStage; label: string; doing: string }[] = [
  { stage: "research", label: "Research", doing: "Researching" },
  { stage: "writing", label: "Writing", doing: "Writing" },
  { stage: "review", label: "Review", doing: "Reviewing" },
];

/** Which step is under way: -1 before the first, STEPS.length once all are done. */
function currentStep(state: EpisodeLiveState): number {
  if (state.status === "PUBLISHED") return STEPS.length;
  if (state.status !== "GENERATING") return -1;
  return Math.max(0, STEPS.findIndex((step) => step.stage === state.stage));
}

/** What the polite live region says: it changes with the stage, not with every percent. */
export function stageAnnouncement(state: EpisodeLiveState): string {
  switch (state.status) {
    case "QUEUED":
      return "Queued: waiting to start.";
    case "GENERATING":
      return `Now: ${STEPS[currentStep(state)].doing.toLowerCase()}.`;
    case "PUBLISHED":
      return "Published. Opening the episode…";
    case "FAILED":
      return "Generation failed.";
    default:
      return "";
  }
}

export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes} min ${String(seconds % 60).padStart(2, "0")} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/**
 * A queued or generating episode: the steps with the current one marked, its message and percent, the time since it
 * started, and what research has found so far, readable before the writer finishes.
 */
export function GenerationStatus({ state, serverNow }: { state: EpisodeLiveState; serverNow: number }) {
  const step = currentStep(state);
  const running = state.status === "GENERATING" && !!state.startedAt;
  const now = useServerNow(serverNow, running);
  return (
    <section className="generation stack" aria-labelledby="generation-title">
      <h2 id="generation-title">{state.status === "QUEUED" ? "Waiting to start" : "Being written"}</h2>
      <ol className="generation-steps">
        {STEPS.map((item, index) => {
          const phase = index < step ? "done" : index === step ? "current" : "upcoming";
          return (
            <li key={item.stage} className={`generation-steps__step generation-steps__step--${phase}`} aria-current={phase === "current" ? "step" : undefined}>
              {item.label}
              <span className="visually-hidden">{phase === "done" ? " (done)" : phase === "current" ? " (in progress)" : " (to come)"}</span>
            </li>
          );
        })}
      </ol>
      <p className="generation__stage" aria-live="polite">
        {stageAnnouncement(state)}
      </p>
      {state.message ? <p className="generation__message">{state.message}</p> : null}
      {state.status === "GENERATING" ? (
        <div className="generation__progress">
          <label htmlFor="generation-percent">Progress</label>
          <progress id="generation-percent" max={100} value={state.percent}>
            {state.percent} %
          </progress>
          <span aria-hidden="true">{state.percent} %</span>
        </div>
      ) : null}
      <p className="muted">
        {running ? `Started ${formatElapsed(now - Date.parse(state.startedAt!))} ago. ` : null}
        Episodes typically take 2–5 minutes. You can leave this page and come back.
      </p>
      {state.findings.length ? (
        <section aria-labelledby="findings-title">
          <h3 id="findings-title">What research has found so far</h3>
          <ul className="findings">
            {state.findings.map((finding, index) => (
              <li key={index}>{finding}</li>
            ))}
          </ul>
        </section>
      ) : null}
      {state.sources.length ? (
        <section aria-labelledby="research-sources-title">
          <h3 id="research-sources-title">Sources found so far</h3>
          <SourceList sources={state.sources} />
        </section>
      ) : null}
    </section>
  );
}
