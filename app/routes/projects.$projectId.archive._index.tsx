import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { requireArchiveProject } from "~/auth/archive-access.server";
import { getDb } from "~/lib/db.server";
import { onlyGet } from "~/lib/http.server";
import { formatInZone } from "~/lib/schedule.server";
import { listArchiveEpisodes } from "~/models/archive.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Archive: ${data?.project.title ?? "Project"} · Many Futures` },
  ...(data ? [{ tagName: "link", rel: "alternate", type: "application/atom+xml", title: data.project.title, href: data.feedPath }] : []),
];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const project = await requireArchiveProject(request, context, params.projectId);
  const episodes = await listArchiveEpisodes(getDb(), project);
  return {
    project: { id: project.id, title: project.title, publicSubscribe: project.publicSubscribe },
    feedPath: `/projects/${project.id}/feed.xml`,
    episodes: episodes.map((e) => ({
      id: e.id,
      title: e.title,
      summary: e.summary,
      publishedAt: e.publishedAt.toISOString(),
      publishedLabel: formatInZone(e.publishedAt, project.timezone),
    })),
  };
}

/** Nothing here takes a form: a project this person may not read is not found, any other answers 405. */
export async function action(args: ActionFunctionArgs) {
  await requireArchiveProject(args.request, args.context, args.params.projectId);
  return onlyGet(args);
}

export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

export default function ArchivePage() {
  const { project, episodes, feedPath } = useLoaderData<typeof loader>();
  return (
    <section className="stack" aria-labelledby="archive-title">
      <h1 id="archive-title">{project.title}: all episodes</h1>
      <p>
        <a href={feedPath}>Atom feed</a>
        {project.publicSubscribe ? (
          <>
            {" · "}
            <Link to={`/subscribe/${project.id}`}>Get new episodes by email</Link>
          </>
        ) : null}
      </p>
      {episodes.length === 0 ? (
        <p className="muted">No episodes have been published yet.</p>
      ) : (
        <ol className="stack" reversed>
          {episodes.map((episode) => (
            <li key={episode.id}>
              <h2>
                <Link to={`/projects/${project.id}/archive/${episode.id}`}>{episode.title}</Link>
              </h2>
              <p className="muted">
                <time dateTime={episode.publishedAt}>{episode.publishedLabel}</time>
              </p>
              {episode.summary ? <p>{episode.summary}</p> : null}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
