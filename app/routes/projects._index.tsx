import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { StatusBadge } from "~/components/project-status";
import { requireOrgContext } from "~/auth/context.server";
import { getDb } from "~/lib/db.server";
import { onlyGet } from "~/lib/http.server";
import { describeCadence, formatInZone } from "~/lib/schedule.server";
import { cadenceOf, listProjects } from "~/models/projects.server";

export const meta: MetaFunction = () => [{ title: "Projects · Many Futures" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { organizationId } = await requireOrgContext(request, context);
  const projects = await listProjects(getDb(), organizationId);
  return {
    projects: projects.map((p) => ({
      id: p.id,
      title: p.title,
      status: p.status,
      episodeCount: p.episodeCount,
      cadence: describeCadence(cadenceOf(p)),
      lastPublished: p.lastPublishedAt ? formatInZone(p.lastPublishedAt, p.timezone) : null,
      nextScheduled: p.nextScheduledAt ? formatInZone(p.nextScheduledAt, p.timezone) : null,
    })),
  };
}

// Nothing here takes a form.
export const action = onlyGet;
export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

export default function ProjectsPage() {
  const { projects } = useLoaderData<typeof loader>();
  return (
    <div className="stack">
      <div className="page-header">
        <h1>Projects</h1>
        {projects.length ? (
          <Link to="/projects/new" className="button">
            New project
          </Link>
        ) : null}
      </div>
      {projects.length === 0 ? (
        <section className="card stack" aria-labelledby="empty-title">
          <h2 id="empty-title">Start your first project</h2>
          <p>
            Tell Futura what you want to keep an eye on. A short conversation becomes a brief, and your first episode
            is scheduled for next Monday morning.
          </p>
          <p>
            <Link to="/projects/new" className="button">
              Talk to Futura
            </Link>
          </p>
        </section>
      ) : (
        <ul className="project-list">
          {projects.map((p) => (
            <li key={p.id} className="card">
              <h2>
                <Link to={`/projects/${p.id}`}>{p.title}</Link> <StatusBadge status={p.status} />
              </h2>
              <dl className="facts">
                <dt>Episodes</dt>
                <dd>{p.episodeCount}</dd>
                <dt>Last published</dt>
                <dd>{p.lastPublished ?? "Not yet"}</dd>
                <dt>Next episode</dt>
                <dd>{p.nextScheduled ?? "None scheduled"}</dd>
                <dt>Schedule</dt>
                <dd>{p.cadence}</dd>
              </dl>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
