import {
  MaxPartSizeExceededError,
  unstable_createMemoryUploadHandler,
  unstable_parseMultipartFormData,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { Breadcrumbs } from "~/components/breadcrumbs";
import { keepRefusalHeaders, ProjectErrorBoundary } from "~/components/error-boundary";
import { ErrorSummary } from "~/components/error-summary";
import { Field, TextAreaField } from "~/components/form";
import { VerifyEmailNotice } from "~/components/verify-email-notice";
import { forbiddenResponse, requireOrgContext } from "~/auth/context.server";
import { getDb } from "~/lib/db.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { clientError, jsonResponse, MAX_FORM_BYTES, notFound, readForm, requestMeta } from "~/lib/http.server";
import { canManageProjectLifecycle } from "~/lib/roles";
import { requireId } from "~/lib/route-params.server";
import { formatInZone } from "~/lib/schedule.server";
import { MAX_IMPORT_ROWS, parseSubscriberCsv } from "~/lib/subscriber-csv.server";
import { emailField, formValues, parseWith, visibleErrors, type FieldErrors, type FormFields } from "~/lib/validation";
import { getProject } from "~/models/projects.server";
import { addSubscriber, importSubscribers, listSubscribers, removeSubscriber, resendConfirmation, type SubscriberStatus } from "~/models/subscribers.server";
import { isEmailVerified } from "~/models/users.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Subscribers: ${data?.project.title ?? "Project"} · Many Futures` }];

/** A CSV upload is read in memory; a file of addresses this big would be over MAX_IMPORT_ROWS anyway. */
const MAX_CSV_BYTES = 256 * 1024;

const STATUS_LABELS: Record<SubscriberStatus, string> = {
  pending: "Waiting for confirmation",
  confirmed: "Confirmed",
  unsubscribed: "Unsubscribed",
  bounced: "Bounced",
  complained: "Marked as spam",
};

const SOURCE_LABELS = { member: "Member", admin: "Added by an admin", public: "Public form", import: "Imported" } as const;

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const actor = await requireOrgContext(request, context);
  const db = getDb();
  const project = await getProject(db, actor.organizationId, requireId(request, params.projectId));
  if (!project) throw notFound(request);
  const [subscribers, verified] = await Promise.all([listSubscribers(db, actor.organizationId, project.id), isEmailVerified(db, actor.userId)]);
  return {
    project: { id: project.id, title: project.title },
    canManage: canManageProjectLifecycle(actor.role),
    verified,
    email: actor.label,
    subscribers: subscribers.map((s) => ({
      id: s.id,
      email: s.email,
      name: s.name,
      status: s.status,
      statusLabel: STATUS_LABELS[s.status],
      source: SOURCE_LABELS[s.source],
      since: formatInZone(s.confirmedAt ?? s.createdAt, project.timezone),
      expired: s.status === "pending" && s.confirmationExpiresAt !== null && s.confirmationExpiresAt < new Date(),
    })),
  };
}

const addSchema = z.object({
  intent: z.literal("add"),
  email: emailField,
  name: z.string().trim().max(200, "Keep the name to 200 characters or fewer.").optional().default(""),
});
const subscriberSchema = z.object({ intent: z.enum(["remove", "resend"]), subscriberId: z.uuid() });

const ADD_FIELDS = { email: "field-email", name: "field-name" };
const IMPORT_FIELDS = { csv: "import-file" };

interface ImportReport {
  added: number;
  alreadyListed: string[];
  invalid: { line: number; value: string; reason: string }[];
}

function importSummary(report: ImportReport): string {
  const added = `${report.added} ${report.added === 1 ? "address was" : "addresses were"} added and sent a link to confirm.`;
  const listed = report.alreadyListed.length;
  return listed ? `${added} ${listed} already on the list ${listed === 1 ? "was" : "were"} left as ${listed === 1 ? "it was" : "they were"}.` : added;
}

type ActionData = { form: "add" | "import" | "row"; errors: FieldErrors; values?: FormFields; report?: ImportReport };

function answer(data: ActionData, status: number): Response {
  return jsonResponse(data, { status });
}

/**
 * The submitted form: a multipart body (the CSV upload) through Remix's parser, each part held in memory up to
 * MAX_CSV_BYTES; any other body through readForm. The file's text comes back as `csvFile`.
 */
async function readSubscribersForm(request: Request): Promise<{ values: FormFields; csvFile: string | null }> {
  if (!/^multipart\/form-data/i.test(request.headers.get("Content-Type") ?? "")) return { values: await readForm(request), csvFile: null };
  if (Number(request.headers.get("Content-Length")) > MAX_FORM_BYTES) {
    throw clientError(request, 413, `This form is too large: send at most ${MAX_FORM_BYTES / 1024} KB.`);
  }
  let formData: FormData;
  try {
    formData = await unstable_parseMultipartFormData(request, unstable_createMemoryUploadHandler({ maxPartSize: MAX_CSV_BYTES }));
  } catch (error) {
    if (error instanceof MaxPartSizeExceededError) {
      throw clientError(request, 413, `That file is too large: import at most ${MAX_CSV_BYTES / 1024} KB (${MAX_IMPORT_ROWS} addresses) at a time.`);
    }
    throw clientError(request, 400, "This form's multipart body is broken, so it could not be read. Reload the page and try again.");
  }
  const file = formData.get("file");
  const csvFile = file && typeof file !== "string" && file.size > 0 ? await file.text() : null;
  return { values: formValues(formData), csvFile };
}

const REFUSALS = {
  unverified: "Confirm your email address before you add subscribers: use the link we emailed you, or ask for a new one.",
  not_pending: "That subscriber is no longer waiting for confirmation, so there is nothing to resend.",
} as const;

export async function action({ request, params, context }: ActionFunctionArgs) {
  const actor = await requireOrgContext(request, context);
  const projectId = requireId(request, params.projectId);
  const { values, csvFile } = await readSubscribersForm(request);
  const db = getDb();
  const meta = requestMeta(request, context);
  const here = `/projects/${projectId}/subscribers`;

  if (values.intent === "import") {
    const text = csvFile ?? (typeof values.csv === "string" ? values.csv : "");
    if (!text.trim()) return answer({ form: "import", errors: { csv: "Choose a CSV file, or paste addresses into the box." } }, 400);
    if (text.length > MAX_CSV_BYTES) {
      return answer({ form: "import", errors: { csv: `That is too much to import at once: at most ${MAX_CSV_BYTES / 1024} KB (${MAX_IMPORT_ROWS} addresses).` } }, 400);
    }
    if (text.includes("\u0000")) return answer({ form: "import", errors: { csv: "This file contains NUL characters: it does not look like a CSV file." } }, 400);
    const parsed = parseSubscriberCsv(text);
    if (!parsed.ok) return answer({ form: "import", errors: { csv: parsed.error } }, 400);
    if (!parsed.rows.length) {
      const report = { added: 0, alreadyListed: [], invalid: parsed.invalid };
      return answer({ form: "import", errors: { csv: "No row has a usable email address, so nothing was imported. The rows and their problems are listed below." }, report }, 400);
    }
    const result = await importSubscribers(db, actor, projectId, parsed, meta);
    if (!result.ok && result.reason === "unverified") return answer({ form: "import", errors: { form: REFUSALS.unverified } }, 403);
    if (!result.ok) throw result.reason === "forbidden" ? forbiddenResponse(request) : notFound(request);
    const report = { added: result.added.length, alreadyListed: result.alreadyListed.map((row) => row.email), invalid: result.invalid };
    return answer({ form: "import", errors: {}, report }, 200);
  }

  if (values.intent === "add") {
    const parsed = parseWith(addSchema, values);
    if (!parsed.ok) return answer({ form: "add", errors: visibleErrors(parsed.errors, Object.keys(ADD_FIELDS)), values }, 400);
    const result = await addSubscriber(db, actor, projectId, parsed.data, meta);
    if (!result.ok && result.reason === "already_listed") {
      return answer({ form: "add", errors: { email: `This address is already on the list (${STATUS_LABELS[result.status].toLowerCase()}).` }, values }, 400);
    }
    if (!result.ok && result.reason === "unverified") return answer({ form: "add", errors: { form: REFUSALS.unverified }, values }, 403);
    if (!result.ok) throw result.reason === "forbidden" ? forbiddenResponse(request) : notFound(request);
    return redirectWithFlash(request, here, { message: `${result.subscriber.email} is added and has been sent a link to confirm. Nothing else is sent until they do.` });
  }

  const parsed = parseWith(subscriberSchema, values);
  if (!parsed.ok) return answer({ form: "row", errors: visibleErrors(parsed.errors, []) }, 400);
  const { intent, subscriberId } = parsed.data;
  const result = intent === "remove" ? await removeSubscriber(db, actor, projectId, subscriberId, meta) : await resendConfirmation(db, actor, projectId, subscriberId, meta);
  if (!result.ok && (result.reason === "unverified" || result.reason === "not_pending")) {
    return answer({ form: "row", errors: { form: REFUSALS[result.reason] } }, result.reason === "unverified" ? 403 : 409);
  }
  if (!result.ok) throw result.reason === "forbidden" ? forbiddenResponse(request) : notFound(request);
  return redirectWithFlash(request, here, {
    message: intent === "remove" ? `${result.subscriber.email} is removed.` : `A new confirmation link is on its way to ${result.subscriber.email}.`,
  });
}

export const headers = keepRefusalHeaders;

export const ErrorBoundary = ProjectErrorBoundary;

export default function SubscribersPage() {
  const { project, subscribers, canManage, verified, email } = useLoaderData<typeof loader>();
  const actionData = useActionData<ActionData>();
  const adding = actionData?.form === "add" ? actionData : undefined;
  const importing = actionData?.form === "import" ? actionData : undefined;
  const fieldIds = actionData?.form === "add" ? ADD_FIELDS : actionData?.form === "import" ? IMPORT_FIELDS : {};
  const here = `/projects/${project.id}/subscribers`;
  return (
    <div className="stack">
      <Breadcrumbs items={[{ label: "Projects", to: "/projects" }, { label: project.title, to: `/projects/${project.id}` }, { label: "Subscribers" }]} />
      <h1>Subscribers</h1>
      <ErrorSummary errors={actionData?.errors} fieldIds={fieldIds} />

      {importing?.report ? (
        <section className="notice notice--success" role="status" aria-labelledby="import-report-title">
          <h2 id="import-report-title">Import finished</h2>
          <p>{importSummary(importing.report)}</p>
          {importing.report.invalid.length ? (
            <>
              <p>These rows were not imported:</p>
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Line</th>
                    <th scope="col">Value</th>
                    <th scope="col">Problem</th>
                  </tr>
                </thead>
                <tbody>
                  {importing.report.invalid.map((row) => (
                    <tr key={row.line}>
                      <td>{row.line}</td>
                      <td>{row.value || "(empty)"}</td>
                      <td>{row.reason}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          ) : null}
        </section>
      ) : null}

      {subscribers.length ? (
        <table className="table">
          <caption className="muted">Episodes go only to confirmed subscribers.</caption>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">From</th>
              <th scope="col">Since</th>
              {canManage ? <th scope="col">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {subscribers.map((s) => (
              <tr key={s.id}>
                <td>{s.email}</td>
                <td>{s.name}</td>
                <td>
                  {s.statusLabel}
                  {s.expired ? <span className="muted"> (link expired)</span> : null}
                </td>
                <td>{s.source}</td>
                <td>{s.since}</td>
                {canManage ? (
                  <td>
                    {s.status === "pending" && verified ? (
                      <Form method="post" className="inline-form">
                        <input type="hidden" name="intent" value="resend" />
                        <input type="hidden" name="subscriberId" value={s.id} />
                        <button type="submit" className="button button--secondary" aria-label={`Resend confirmation to ${s.email}`}>
                          Resend confirmation
                        </button>
                      </Form>
                    ) : null}
                    <Form method="post" className="inline-form">
                      <input type="hidden" name="intent" value="remove" />
                      <input type="hidden" name="subscriberId" value={s.id} />
                      <button type="submit" className="button button--danger" aria-label={`Remove ${s.email}`}>
                        Remove
                      </button>
                    </Form>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">Nobody subscribes to this project yet.</p>
      )}

      {!canManage ? (
        <p className="muted narrow">Owners and admins of this organization add and remove subscribers. To get episodes yourself, tick the box on the project page.</p>
      ) : !verified ? (
        <VerifyEmailNotice email={email} action="add subscribers" returnTo={here} />
      ) : (
        <>
          <section aria-labelledby="add-title" className="narrow">
            <h2 id="add-title">Add a subscriber</h2>
            <p className="muted">They get an email with a link to confirm; nothing else is sent to them until they do. The link works for 7 days.</p>
            <Form method="post" noValidate>
              <input type="hidden" name="intent" value="add" />
              <Field label="Email" name="email" type="email" required defaultValue={String(adding?.values?.email ?? "")} error={adding?.errors.email} />
              <Field label="Name (optional)" name="name" defaultValue={String(adding?.values?.name ?? "")} error={adding?.errors.name} />
              <button type="submit" className="button">
                Add and send confirmation
              </button>
            </Form>
          </section>

          <section aria-labelledby="import-title" className="narrow">
            <h2 id="import-title">Import addresses from CSV</h2>
            <p className="muted" id="import-hint">
              One address a row, in a column headed “email” (and optionally “name”), or in the first column. Up to {MAX_IMPORT_ROWS} rows. Each address gets
              its own confirmation email.
            </p>
            <Form method="post" encType="multipart/form-data" noValidate>
              <input type="hidden" name="intent" value="import" />
              <div className="field">
                <label htmlFor="import-file">CSV file</label>
                <input
                  type="file"
                  id="import-file"
                  name="file"
                  accept=".csv,text/csv"
                  aria-invalid={importing?.errors.csv ? true : undefined}
                  aria-describedby={importing?.errors.csv ? "import-hint import-file-error" : "import-hint"}
                />
                {importing?.errors.csv ? (
                  <p className="field__error" id="import-file-error">
                    {importing.errors.csv}
                  </p>
                ) : null}
              </div>
              <TextAreaField label="Or paste the CSV here" id="import-csv" name="csv" rows={6} />
              <button type="submit" className="button">
                Import and send confirmations
              </button>
            </Form>
          </section>
        </>
      )}
    </div>
  );
}
