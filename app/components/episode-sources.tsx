import type { EpisodeSource } from "~/models/episodes.server";

/** Only plain web links: a source named by a generator must never become a javascript: or data: link. */
export function safeHttpUrl(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** Sources as links that open without handing the other site this page; anything not http(s) is shown as text. */
export function SourceList({ sources }: { sources: EpisodeSource[] }) {
  return (
    <ul className="source-list">
      {sources.map((source, index) => {
        const href = safeHttpUrl(source.url);
        const label = source.title || source.url;
        return (
          <li key={`${source.url}-${index}`}>
            {href ? (
              <a href={href} rel="noopener noreferrer" target="_blank">
                {label}
                <span className="visually-hidden"> (opens in a new tab)</span>
              </a>
            ) : (
              <span>{label}</span>
            )}
            {source.publisher ? <span className="muted">, {source.publisher}</span> : null}
          </li>
        );
      })}
    </ul>
  );
}
