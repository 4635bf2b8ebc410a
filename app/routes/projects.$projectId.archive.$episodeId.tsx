import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { EpisodeArticle, type PublishedEpisode } from "~/components/episode-article";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { requireArchiveProject } from "~/auth/archive-access.server";
import { getDb } from "~/lib/db.server";
import { notFound, onlyGet } from "~/lib/http.server";
import { markdownToSafeHtml } from "~/lib/markdown-html.server";
import { requireId } from "~/lib/route-params.server";
import { formatInZone } from "~/lib/schedule.server";
import { getArchiveEpisode } from "~/models/archive.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `${data?.episode.title ?? "Episode"} · ${data?.project.title ?? "Many Futures"}` },
];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const project = await requireArchiveProject(request, context, params.projectId);
  const episode = await getArchiveEpisode(getDb(), project, requireId(request, params.episodeId));
  if (!episode) throw notFound(request);
  const published: PublishedEpisode = {
    title: episode.title,
    summary: episode.summary,
    contentHtml: markdownToSafeHtml(episode.content, { sectionLevel: 1, target: "web" }),
    publishedAt: episode.publishedAt.toISOString(),
    publishedLabel: formatInZone(episode.publishedAt, project.timezone),
    readingMinutes: episode.readingMinutes ?? 1,
    sources: episode.sources ?? [],
    qaNotes: null,
  };
  return { project: { id: project.id, title: project.title }, episode: published };
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

export default function ArchiveEpisodePage() {
  const { project, episode } = useLoaderData<typeof loader>();
  return (
    <div className="stack">
      <p>
        <Link to={`/projects/${project.id}/archive`}>All episodes of {project.title}</Link>
      </p>
      <EpisodeArticle episode={episode} />
    </div>
  );
}
