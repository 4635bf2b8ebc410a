import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { ErrorSummary } from "~/components/error-summary";
import { Field } from "~/components/form";
import { requireViewer, sessionActor } from "~/auth/context.server";
import { clerkEnabled } from "~/lib/config.server";
import { getDb } from "~/lib/db.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { jsonResponse, notFound, readForm, requestMeta } from "~/lib/http.server";
import { ROLE_LABELS } from "~/lib/roles";
import { parseWith, visibleErrors, type FieldErrors, type FormFields } from "~/lib/validation";
import { createOrganization } from "~/models/organizations.server";
import { switchSessionOrganization } from "~/models/sessions.server";

export const meta: MetaFunction = () => [{ title: "Your organizations · Many Futures" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  if (clerkEnabled()) throw redirect("/organization");
  const viewer = await requireViewer(request, context);
  return { memberships: viewer.memberships, currentId: viewer.organization?.organizationId ?? null };
}

const actionSchema = z.discriminatedUnion(
  "intent",
  [
    z.object({ intent: z.literal("switch"), organizationId: z.uuid() }),
    z.object({
      intent: z.literal("create"),
      name: z.string().trim().min(1, "Give the organization a name.").max(200, "Keep the name under 200 characters."),
    }),
  ],
  { error: "Unknown action." },
);

const CREATE_FIELDS = { name: "field-name" };

export async function action({ request, context }: ActionFunctionArgs) {
  if (clerkEnabled()) throw notFound(request);
  const viewer = await requireViewer(request, context);
  const values = await readForm(request);
  const parsed = parseWith(actionSchema, values);
  if (!parsed.ok) {
    return jsonResponse({ errors: visibleErrors(parsed.errors, Object.keys(CREATE_FIELDS)), values }, { status: 400 });
  }
  const db = getDb();
  const meta = requestMeta(request, context);
  if (parsed.data.intent === "switch") {
    // Switching to an organization you are not in looks exactly like switching to one that does not exist.
    const switched = await switchSessionOrganization(db, sessionActor(viewer), parsed.data.organizationId, meta);
    if (!switched.ok) throw notFound(request);
    return redirectWithFlash(request, "/organization", { message: `You are now working in ${switched.organizationName}.` });
  }
  const { organization } = await createOrganization(db, sessionActor(viewer), { name: parsed.data.name }, meta);
  return redirectWithFlash(request, "/organization", { message: `${organization.name} is created, and you are working in it.` });
}

export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

export default function OrganizationsPage() {
  const { memberships, currentId } = useLoaderData<typeof loader>();
  const actionData = useActionData<{ errors: FieldErrors; values: FormFields }>();
  return (
    <div className="stack">
      <h1>Your organizations</h1>
      <ErrorSummary errors={actionData?.errors} fieldIds={CREATE_FIELDS} />
      <ul className="stack">
        {memberships.map((m) => (
          <li key={m.organizationId} className="card">
            <strong>{m.organizationName}</strong> <span className="muted">({ROLE_LABELS[m.role]})</span>{" "}
            {m.organizationId === currentId ? (
              <span aria-current="true">Current organization</span>
            ) : (
              <Form method="post" className="inline-form">
                <input type="hidden" name="intent" value="switch" />
                <input type="hidden" name="organizationId" value={m.organizationId} />
                <button type="submit" className="button button--secondary">
                  Switch to {m.organizationName}
                </button>
              </Form>
            )}
          </li>
        ))}
      </ul>
      <section aria-labelledby="create-title" className="narrow">
        <h2 id="create-title">Create an organization</h2>
        <Form method="post" noValidate>
          <input type="hidden" name="intent" value="create" />
          <Field label="Name" name="name" required defaultValue={String(actionData?.values?.name ?? "")} error={actionData?.errors?.name} />
          <button type="submit" className="button">
            Create organization
          </button>
        </Form>
      </section>
    </div>
  );
}
