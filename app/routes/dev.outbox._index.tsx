import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { requireOutboxScope } from "~/email/outbox-access.server";
import { listOutbox } from "~/email/outbox.server";
import { emailProviderName, getConfig } from "~/lib/config.server";
import { getDb } from "~/lib/db.server";
import { onlyGet } from "~/lib/http.server";

export const meta: MetaFunction = () => [{ title: "Outbox · Many Futures" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const scope = await requireOutboxScope(request, context);
  const deliveries = await listOutbox(getDb(), scope);
  return {
    provider: emailProviderName(getConfig()),
    allOrganizations: scope.kind === "all",
    deliveries: deliveries.map((delivery) => ({
      id: delivery.id,
      kind: delivery.kind,
      toEmail: delivery.toEmail,
      subject: delivery.subject,
      status: delivery.status,
      providerStatus: delivery.providerStatus,
      attempts: delivery.attempts,
      createdAt: delivery.createdAt.toISOString(),
    })),
  };
}

export const action = onlyGet;
export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

const KIND_NAMES: Record<string, string> = {
  episode: "Episode",
  subscription_confirmation: "Subscription confirmation",
  invitation: "Invitation",
  password_reset: "Password reset",
  generation_failed: "Generation failed",
  budget_alert: "Budget alert",
  email_verification: "Email verification",
  sign_in_link: "Sign-in link",
};

export default function OutboxPage() {
  const data = useLoaderData<typeof loader>();
  return (
    <section className="stack" aria-labelledby="outbox-title">
      <h1 id="outbox-title">Outbox</h1>
      <p>
        {data.provider === "outbox"
          ? "No email provider is configured, so nothing leaves this machine: these are the emails that would have been sent."
          : `Emails go out through ${data.provider === "resend" ? "Resend" : "SMTP"}; this is what was sent.`}
        {data.allOrganizations ? " In development every organization's emails are listed." : ""}
      </p>
      {data.deliveries.length ? (
        <table className="table">
          <caption className="visually-hidden">Emails, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Subject</th>
              <th scope="col">Kind</th>
              <th scope="col">To</th>
              <th scope="col">Status</th>
              <th scope="col">Queued</th>
            </tr>
          </thead>
          <tbody>
            {data.deliveries.map((delivery) => (
              <tr key={delivery.id}>
                <td>
                  <Link to={`/dev/outbox/${delivery.id}`}>{delivery.subject ?? "(not rendered yet)"}</Link>
                </td>
                <td>{KIND_NAMES[delivery.kind] ?? delivery.kind}</td>
                <td>{delivery.toEmail}</td>
                <td>
                  {delivery.status}
                  {delivery.providerStatus ? `, ${delivery.providerStatus}` : ""}
                  {delivery.attempts > 1 ? ` (${delivery.attempts} attempts)` : ""}
                </td>
                <td>
                  <time dateTime={delivery.createdAt}>{delivery.createdAt.slice(0, 16).replace("T", " ")} UTC</time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>No emails yet.</p>
      )}
    </section>
  );
}
