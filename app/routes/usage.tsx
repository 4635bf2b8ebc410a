import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { requireOrgContext } from "~/auth/context.server";
import { usagePageView } from "~/budget/usage-view.server";
import { BudgetNotice } from "~/components/budget-notice";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { UsageChart } from "~/components/usage-chart";
import { getDb } from "~/lib/db.server";
import { onlyGet } from "~/lib/http.server";

export const meta: MetaFunction = () => [{ title: "Usage · Many Futures" }];

/** A page number that is not one shows the first page: the ledger's links only ever send good ones. */
const query = z.object({ page: z.coerce.number().int().min(1).max(1_000_000).catch(1) });

export async function loader({ request, context }: LoaderFunctionArgs) {
  const actor = await requireOrgContext(request, context);
  const { page } = query.parse(Object.fromEntries(new URL(request.url).searchParams));
  return usagePageView(getDb(), actor, page);
}

export const action = onlyGet;
export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

function BreakdownTable({ id, caption, firstColumn, rows }: {
  id: string;
  caption: string;
  firstColumn: string;
  rows: { key: string; label: string; calls: number; promptTokens: number; completionTokens: number; costLabel: string }[];
}) {
  return (
    <table className="table" id={id}>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{firstColumn}</th>
          <th scope="col">Model calls</th>
          <th scope="col">Prompt tokens</th>
          <th scope="col">Completion tokens</th>
          <th scope="col">Spent</th>
        </tr>
      </thead>
      <tbody>
        {rows.length ? (
          rows.map((row) => (
            <tr key={row.key}>
              <th scope="row">{row.label}</th>
              <td>{row.calls}</td>
              <td>{row.promptTokens.toLocaleString("en-GB")}</td>
              <td>{row.completionTokens.toLocaleString("en-GB")}</td>
              <td>{row.costLabel}</td>
            </tr>
          ))
        ) : (
          <tr>
            <td colSpan={5}>Nothing spent in the last 30 days.</td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

export default function UsagePage() {
  const { today, days, limitGbpMicros, details } = useLoaderData<typeof loader>();
  return (
    <div className="stack">
      <h1>Usage</h1>
      <BudgetNotice notice={details?.notice ?? null} />

      <section aria-labelledby="today-title">
        <h2 id="today-title">Today</h2>
        <p className="muted">
          {today.usageDate}, in the organization's time zone ({today.timeZone.replaceAll("_", " ")}).
        </p>
        <dl className="usage-figures" data-testid="usage-today">
          <div>
            <dt>Spent</dt>
            <dd>{today.spentLabel}</dd>
          </div>
          <div>
            <dt>Set aside for episodes being written</dt>
            <dd>{today.reservedLabel}</dd>
          </div>
          <div>
            <dt>Daily limit</dt>
            <dd>{today.limitLabel}</dd>
          </div>
          <div>
            <dt>Left today</dt>
            <dd>{today.leftLabel}</dd>
          </div>
        </dl>
        <p>{today.status}</p>
        {today.overshootLabel ? (
          <p>Generations today cost {today.overshootLabel} more than was set aside for them.</p>
        ) : null}
      </section>

      <section aria-labelledby="days-title">
        <h2 id="days-title">The last 30 days</h2>
        <div className="usage-chart-layout">
          <UsageChart days={days} limitGbpMicros={limitGbpMicros} limitLabel={today.limitLabel} />
          <div className="usage-days" role="region" aria-labelledby="days-table-caption" tabIndex={0}>
            <table className="table" data-testid="usage-days">
              <caption id="days-table-caption">Spend per day</caption>
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col">Spent</th>
                </tr>
              </thead>
              <tbody>
                {[...days].reverse().map((day) => (
                  <tr key={day.usageDate}>
                    <th scope="row">{day.usageDate}</th>
                    <td>
                      {day.costLabel}
                      {day.overshootLabel ? ` (${day.overshootLabel} over what was set aside)` : ""}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      </section>

      {details ? (
        <>
          <section aria-labelledby="breakdown-title" className="stack">
            <h2 id="breakdown-title">Where it went, last 30 days</h2>
            <BreakdownTable id="usage-by-project" caption="By project" firstColumn="Project" rows={details.byProject} />
            <BreakdownTable id="usage-by-model" caption="By model" firstColumn="Model" rows={details.byModel} />
          </section>

          {details.overshoots.length ? (
            <section aria-labelledby="overshoots-title">
              <h2 id="overshoots-title">Generations that cost more than was set aside</h2>
              <table className="table" data-testid="usage-overshoots">
                <thead>
                  <tr>
                    <th scope="col">Day</th>
                    <th scope="col">Episode</th>
                    <th scope="col">Set aside</th>
                    <th scope="col">Cost</th>
                    <th scope="col">Over by</th>
                  </tr>
                </thead>
                <tbody>
                  {details.overshoots.map((o) => (
                    <tr key={`${o.episodeId}:${o.attempt}`}>
                      <td>{o.usageDate}</td>
                      <td>
                        <Link to={`/episodes/${o.episodeId}`}>Attempt {o.attempt}</Link>
                      </td>
                      <td>{o.reservedLabel}</td>
                      <td>{o.costLabel}</td>
                      <td>{o.overLabel}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          ) : null}

          <section aria-labelledby="ledger-title">
            <h2 id="ledger-title">Ledger</h2>
            <p>
              {`Every model call, newest first (${details.ledger.total} in all).`}{" "}
              <a href="/usage.csv" download>
                Download the ledger as CSV
              </a>
            </p>
            <table className="table" data-testid="usage-ledger">
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col">Project</th>
                  <th scope="col">Stage</th>
                  <th scope="col">Model</th>
                  <th scope="col">Prompt tokens</th>
                  <th scope="col">Completion tokens</th>
                  <th scope="col">Cost</th>
                </tr>
              </thead>
              <tbody>
                {details.ledger.rows.length ? (
                  details.ledger.rows.map((row) => (
                    <tr key={row.id}>
                      <td>{row.usageDate}</td>
                      <td>
                        {row.episodeId ? <Link to={`/episodes/${row.episodeId}`}>{row.projectTitle ?? "Episode"}</Link> : "Deleted episode"}
                      </td>
                      <td>{row.agent}</td>
                      <td>{row.model}</td>
                      <td>{row.promptTokens.toLocaleString("en-GB")}</td>
                      <td>{row.completionTokens.toLocaleString("en-GB")}</td>
                      <td title={`£${row.costGbp}`}>{row.costLabel}</td>
                    </tr>
                  ))
                ) : (
                  <tr>
                    <td colSpan={7}>No model calls yet.</td>
                  </tr>
                )}
              </tbody>
            </table>
            {details.ledger.pageCount > 1 ? (
              <nav aria-label="Ledger pages" className="pagination">
                {details.ledger.page > 1 ? <Link to={`/usage?page=${details.ledger.page - 1}`}>Newer calls</Link> : null}{" "}
                <span>{`Page ${details.ledger.page} of ${details.ledger.pageCount}`}</span>{" "}
                {details.ledger.page < details.ledger.pageCount ? (
                  <Link to={`/usage?page=${details.ledger.page + 1}`}>Older calls</Link>
                ) : null}
              </nav>
            ) : null}
          </section>
        </>
      ) : (
        <p className="muted">Owners and admins see spend by project and model, and every model call.</p>
      )}
    </div>
  );
}
