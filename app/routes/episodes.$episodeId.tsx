import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { getViewer, requireOrgContext } from "~/auth/context.server";
import { Breadcrumbs } from "~/components/breadcrumbs";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { ErrorSummary } from "~/components/error-summary";
import { EpisodeArticle, type PublishedEpisode } from "~/components/episode-article";
import { RetryForm, generationRequestMessage, generationRequestStatus } from "~/components/episode-actions";
import { useEpisodeLive } from "~/components/episode-live";
import { GenerationStatus, stageAnnouncement } from "~/components/generation-status";
import { openEpisodeAsReader } from "~/email/reader-links.server";
import { canRequestGeneration, retryEpisode } from "~/generation/lifecycle.server";
import { getDb } from "~/lib/db.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { jsonResponse, notFound, readForm, requestMeta } from "~/lib/http.server";
import { markdownToSafeHtml } from "~/lib/markdown-html.server";
import { requireId } from "~/lib/route-params.server";
import { formatInZone } from "~/lib/schedule.server";
import { OUT_OF_DATE_MESSAGE, parseWith } from "~/lib/validation";
import { recordEpisodeOpened } from "~/models/episode-feedback.server";
import { getEpisode, type EpisodeRow } from "~/models/episodes.server";
import { getProject } from "~/models/projects.server";
import { episodeLiveState } from "~/realtime/episode-state";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `${data?.published?.title ?? "Episode"} · ${data?.project.title ?? "Many Futures"}` },
];

function publishedView(episode: EpisodeRow, zone: string, canManage: boolean): PublishedEpisode | null {
  if (episode.status !== "PUBLISHED" || !episode.publishedAt) return null;
  return {
    title: episode.title ?? "Untitled episode",
    summary: episode.summary,
    contentHtml: markdownToSafeHtml(episode.content ?? "", { sectionLevel: 1, target: "web" }),
    publishedAt: episode.publishedAt.toISOString(),
    publishedLabel: formatInZone(episode.publishedAt, zone),
    readingMinutes: episode.readingMinutes ?? 1,
    sources: episode.sources ?? [],
    qaNotes: canManage && episode.qaPassed === false ? (episode.qaNotes ?? "") : null,
  };
}

/**
 * Members of the organization see any episode. A subscriber following "read on the web" from their email sees the
 * published episode without signing in: the `reader` token in the link names them and this episode.
 */
export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const episodeId = requireId(request, params.episodeId);
  const db = getDb();
  const readerToken = new URL(request.url).searchParams.get("reader");
  const reader = readerToken && !(await getViewer(request, context)) ? await openEpisodeAsReader(db, readerToken, episodeId) : undefined;
  const { organizationId, role, userId } = reader ? { ...reader, role: "member" as const, userId: null } : await requireOrgContext(request, context);
  const episode = await getEpisode(db, organizationId, episodeId);
  if (!episode || (reader && episode.status !== "PUBLISHED")) throw notFound(request);
  const project = await getProject(db, organizationId, episode.projectId);
  const zone = project?.timezone ?? "UTC";
  const canManage = !reader && canRequestGeneration(role);
  const published = publishedView(episode, zone, canManage);
  if (published && userId) await recordEpisodeOpened(db, { organizationId, episodeId, userId });
  return {
    project: { id: episode.projectId, title: project?.title ?? "Project" },
    live: episodeLiveState(episode),
    scheduledLabel: formatInZone(episode.scheduledFor, zone),
    published,
    canManage,
    reader: !!reader,
    serverNow: Date.now(),
  };
}

const retryForm = z.object({ intent: z.literal("retry", { error: "Unknown action." }) });

type ActionData = { error: string };

export async function action({ request, params, context }: ActionFunctionArgs) {
  const actor = await requireOrgContext(request, context);
  const episodeId = requireId(request, params.episodeId);
  const parsed = parseWith(retryForm, await readForm(request));
  if (!parsed.ok) return jsonResponse({ error: OUT_OF_DATE_MESSAGE } satisfies ActionData, { status: 400 });
  const result = await retryEpisode(getDb(), actor, episodeId, requestMeta(request, context));
  if (result.ok) return redirectWithFlash(request, `/episodes/${episodeId}`, { message: "Queued again: Futura starts on it shortly." });
  if (result.reason === "not_found") throw notFound(request);
  return jsonResponse({ error: generationRequestMessage(result.reason) } satisfies ActionData, {
    status: generationRequestStatus(result.reason),
  });
}

export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

export default function EpisodePage() {
  const data = useLoaderData<typeof loader>();
  const actionData = useActionData<ActionData>();
  const live = useEpisodeLive(data.live);
  const heading = data.published?.title ?? (live.status === "DRAFT" ? "Upcoming episode" : `New episode of ${data.project.title}`);
  // Without JavaScript the page refreshes itself until the episode is published or failed.
  const refreshes = !data.live.final && data.live.status !== "DRAFT";
  return (
    <div className="stack">
      {refreshes ? (
        <noscript>
          <meta httpEquiv="refresh" content="10" />
        </noscript>
      ) : null}
      {data.reader ? (
        <p className="muted">An episode of {data.project.title}</p>
      ) : (
        <Breadcrumbs
          items={[
            { label: "Projects", to: "/projects" },
            { label: data.project.title, to: `/projects/${data.project.id}` },
            { label: heading },
          ]}
        />
      )}
      <ErrorSummary errors={actionData?.error ? { form: actionData.error } : undefined} fieldIds={{}} />
      {data.published ? (
        <EpisodeArticle episode={data.published} />
      ) : (
        <>
          <h1>{heading}</h1>
          {live.status === "DRAFT" ? (
            <p>Scheduled for {data.scheduledLabel}. Futura starts researching it then.</p>
          ) : live.status === "FAILED" ? (
            <section className="stack" aria-labelledby="failed-title">
              <h2 id="failed-title">This episode could not be written</h2>
              <p className="generation__stage" aria-live="polite">
                {stageAnnouncement(live)}
              </p>
              <p>{live.failureReason ?? "Generation stopped without giving a reason."}</p>
              {data.canManage ? (
                <RetryForm error={actionData?.error} />
              ) : (
                <p className="muted">An owner or admin of your organization can try again.</p>
              )}
            </section>
          ) : (
            <GenerationStatus state={live} serverNow={data.serverNow} />
          )}
        </>
      )}
    </div>
  );
}
