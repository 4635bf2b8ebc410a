import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { ErrorSummary } from "~/components/error-summary";
import { roleWithArticle } from "~/components/roles";
import { getViewer, requireViewer, sessionActor } from "~/auth/context.server";
import { getDb } from "~/lib/db.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { jsonResponse, readForm, requestMeta } from "~/lib/http.server";
import { VerifyEmailNotice } from "~/components/verify-email-notice";
import { acceptInvitation, findInvitationByToken } from "~/models/invitations.server";
import { isEmailVerified } from "~/models/users.server";

export const meta: MetaFunction = () => [{ title: "Invitation · Many Futures" }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const invitation = await findInvitationByToken(getDb(), params.token ?? "");
  if (!invitation) {
    throw new Response("This invitation link is not valid any more: it was used, revoked or has expired.", {
      status: 404,
    });
  }
  const viewer = await getViewer(request, context);
  return {
    organizationName: invitation.organizationName,
    invitedBy: invitation.invitedByName,
    email: invitation.email,
    role: invitation.role,
    viewer: viewer ? { email: viewer.email, verified: await isEmailVerified(getDb(), viewer.userId) } : null,
    here: new URL(request.url).pathname,
  };
}

export async function action({ request, params, context }: ActionFunctionArgs) {
  const viewer = await requireViewer(request, context);
  // The button sends no fields, but the body must still be a form.
  await readForm(request);
  const { userId, sessionId } = sessionActor(viewer);
  const result = await acceptInvitation(getDb(), { userId, email: viewer.email, sessionId }, params.token ?? "", requestMeta(request, context));
  if (!result.ok) {
    const message =
      result.reason === "wrong_email"
        ? "This invitation was sent to a different email address. Sign in with that address to accept it."
        : result.reason === "unverified"
          ? "Confirm your email address before you join: open the link in the email we sent you, or ask for a new one below."
          : "This invitation link is not valid any more: it was used, revoked or has expired.";
    return jsonResponse({ error: message }, { status: result.reason === "not_found" ? 404 : 403 });
  }
  return redirectWithFlash(request, "/organization", { message: "You have joined the organization." });
}

export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

export default function InvitationPage() {
  const { organizationName, invitedBy, email, role, viewer, here } = useLoaderData<typeof loader>();
  const actionData = useActionData<{ error: string }>();
  const returnTo = encodeURIComponent(here);
  return (
    <section className="narrow stack" aria-labelledby="invitation-title">
      <h1 id="invitation-title">Join {organizationName}</h1>
      <p>
        {invitedBy ? `${invitedBy} invited` : "You were invited as"} {email} to join {organizationName} as{" "}
        {roleWithArticle(role)}.
      </p>
      <ErrorSummary errors={actionData?.error ? { form: actionData.error } : undefined} fieldIds={{}} />
      {viewer ? (
        viewer.email === email && !viewer.verified ? (
          <VerifyEmailNotice email={email} action="join" returnTo={here} />
        ) : viewer.email === email ? (
          <Form method="post">
            <button type="submit" className="button">
              Join {organizationName}
            </button>
          </Form>
        ) : (
          <p className="notice notice--error">
            You are signed in as {viewer.email ?? "another account"}. This invitation is for {email}:{" "}
            <Link to="/signout">sign out</Link> and sign in with that address to accept it.
          </p>
        )
      ) : (
        <p>
          <Link className="button" to={`/signup?redirectTo=${returnTo}&email=${encodeURIComponent(email)}`}>
            Create an account to join
          </Link>{" "}
          or <Link to={`/signin?redirectTo=${returnTo}`}>sign in</Link> if you already have one.
        </p>
      )}
    </section>
  );
}
