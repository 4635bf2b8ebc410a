import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { Breadcrumbs } from "~/components/breadcrumbs";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { requireOutboxScope } from "~/email/outbox-access.server";
import { findOutboxDelivery, previewDelivery } from "~/email/outbox.server";
import { getConfig } from "~/lib/config.server";
import { getDb } from "~/lib/db.server";
import { notFound, onlyGet } from "~/lib/http.server";
import { requireId } from "~/lib/route-params.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.subject ?? "Email"} · Outbox · Many Futures` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const scope = await requireOutboxScope(request, context);
  const deliveryId = requireId(request, params.deliveryId);
  const preview = await previewDelivery(getDb(), scope, deliveryId, getConfig());
  if (!preview) throw notFound(request);
  const { delivery, message } = preview;
  return {
    subject: message?.subject ?? delivery.subject ?? "(could not be rendered)",
    from: message?.from ?? null,
    to: delivery.toEmail,
    status: delivery.status,
    providerStatus: delivery.providerStatus,
    provider: delivery.provider,
    attempts: delivery.attempts,
    lastError: delivery.lastError,
    renderError: preview.renderError,
    headers: Object.entries(message?.headers ?? delivery.headers),
    html: message?.html ?? null,
    text: message?.text ?? null,
  };
}

/** Nothing to post here; an email that is not yours is 404 to a post as to a look. */
export async function action(args: ActionFunctionArgs) {
  const scope = await requireOutboxScope(args.request, args.context);
  const deliveryId = requireId(args.request, args.params.deliveryId);
  if (!(await findOutboxDelivery(getDb(), scope, deliveryId))) throw notFound(args.request);
  return onlyGet(args);
}
export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

export default function OutboxEmailPage() {
  const data = useLoaderData<typeof loader>();
  return (
    <div className="stack">
      <Breadcrumbs items={[{ label: "Outbox", to: "/dev/outbox" }, { label: data.subject }]} />
      <h1>{data.subject}</h1>
      <dl className="details">
        <dt>From</dt>
        <dd>{data.from ?? "—"}</dd>
        <dt>To</dt>
        <dd>{data.to}</dd>
        <dt>Status</dt>
        <dd>
          {data.status}
          {data.providerStatus ? `, ${data.providerStatus}` : ""}
          {data.provider ? ` via ${data.provider}` : ""} · {data.attempts} attempt{data.attempts === 1 ? "" : "s"}
        </dd>
        {data.lastError ? (
          <>
            <dt>Last error</dt>
            <dd>{data.lastError}</dd>
          </>
        ) : null}
      </dl>
      {data.renderError ? <p className="notice notice--error">This email cannot be rendered now: {data.renderError}</p> : null}
      <section aria-labelledby="headers-title">
        <h2 id="headers-title">Headers</h2>
        <dl className="details">
          {data.headers.map(([name, value]) => (
            <div key={name}>
              <dt>{name}</dt>
              <dd className="break-anywhere">{value}</dd>
            </div>
          ))}
        </dl>
      </section>
      {data.html ? (
        <section aria-labelledby="html-title">
          <h2 id="html-title">HTML</h2>
          {/* No scripts, no same-origin access: the email is shown as a mail client would, apart from this page. */}
          <iframe title={`HTML part of “${data.subject}”`} sandbox="" srcDoc={data.html} className="outbox__frame" />
        </section>
      ) : null}
      {data.text ? (
        <section aria-labelledby="text-title">
          <h2 id="text-title">Plain text</h2>
          <pre className="outbox__text">{data.text}</pre>
        </section>
      ) : null}
      <p>
        <Link to="/dev/outbox">Back to the outbox</Link>
      </p>
    </div>
  );
}
