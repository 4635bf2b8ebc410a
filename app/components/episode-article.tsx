import type { EpisodeSource } from "~/models/episodes.server";
import { SourceList } from "./episode-sources";

export interface PublishedEpisode {
  title: string;
  summary: string | null;
  /** The content as HTML from the shared sanitiser (markdownToSafeHtml), the same the email carries. */
  contentHtml: string;
  publishedAt: string;
  publishedLabel: string;
  readingMinutes: number;
  sources: EpisodeSource[];
  /** Shown to owners and admins only, when review did not pass. */
  qaNotes: string | null;
}

/**
 * A published episode for reading: its content, already sanitised on the server by the rules the email uses
 * (no script, style, iframe, image or unsafe link), and its sources.
 */
export function EpisodeArticle({ episode }: { episode: PublishedEpisode }) {
  return (
    <article className="episode stack" aria-labelledby="episode-title">
      <header className="episode__header">
        <h1 id="episode-title">{episode.title}</h1>
        <p className="muted">
          Published <time dateTime={episode.publishedAt}>{episode.publishedLabel}</time> · {episode.readingMinutes} min read
        </p>
      </header>
      {episode.qaNotes !== null ? (
        <section className="notice notice--error" aria-labelledby="qa-title">
          <h2 id="qa-title">Review notes (only owners and admins see these)</h2>
          <p>Our review found problems it could not fix. Read with care:</p>
          <p className="episode__qa-notes">{episode.qaNotes || "No notes were given."}</p>
        </section>
      ) : null}
      <div className="prose" dangerouslySetInnerHTML={{ __html: episode.contentHtml }} />
      {episode.sources.length ? (
        <section aria-labelledby="sources-title">
          <h2 id="sources-title">Sources</h2>
          <SourceList sources={episode.sources} />
        </section>
      ) : null}
    </article>
  );
}
