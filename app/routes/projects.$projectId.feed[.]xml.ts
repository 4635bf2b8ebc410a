import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { requireArchiveProject } from "~/auth/archive-access.server";
import { absoluteUrl } from "~/lib/app-url.server";
import { atomFeedXml } from "~/lib/atom.server";
import { getDb } from "~/lib/db.server";
import { markdownToSafeHtml } from "~/lib/markdown-html.server";
import { onlyGet } from "~/lib/http.server";
import { listArchiveEpisodes } from "~/models/archive.server";

/** The project's published episodes as an Atom feed, readable by whoever may read its archive. */
export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const project = await requireArchiveProject(request, context, params.projectId);
  const episodes = await listArchiveEpisodes(getDb(), project);
  const archivePath = `/projects/${project.id}/archive`;
  const xml = atomFeedXml({
    id: `urn:uuid:${project.id}`,
    title: project.title,
    selfUrl: absoluteUrl(`/projects/${project.id}/feed.xml`),
    alternateUrl: absoluteUrl(archivePath),
    authorName: "Many Futures",
    // A feed with no episode yet was last changed with its project.
    updated: episodes.reduce((latest, e) => (e.updatedAt > latest ? e.updatedAt : latest), project.updatedAt),
    entries: episodes.map((episode) => ({
      id: `urn:uuid:${episode.id}`,
      title: episode.title,
      url: absoluteUrl(`${archivePath}/${episode.id}`),
      published: episode.publishedAt,
      updated: episode.updatedAt,
      summary: episode.summary,
      contentHtml: markdownToSafeHtml(episode.content, { sectionLevel: 1, target: "web" }),
    })),
  });
  return new Response(xml, {
    headers: {
      "Content-Type": "application/atom+xml; charset=utf-8",
      // A private feed is the organization's business: no shared cache keeps a copy.
      "Cache-Control": project.publicArchive ? "public, max-age=300" : "private, no-store",
    },
  });
}

/** Nothing here takes a form: a project this person may not read is not found, any other answers 405. */
export async function action(args: ActionFunctionArgs) {
  await requireArchiveProject(args.request, args.context, args.params.projectId);
  return onlyGet(args);
}
