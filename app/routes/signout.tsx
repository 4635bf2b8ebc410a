import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { Form } from "@remix-run/react";
import { z } from "zod";
import { CLERK_SIGNED_OUT_COOKIES, revokeClerkSessions } from "~/auth/clerk.server";
import { getViewer, sessionActor } from "~/auth/context.server";
import { clearSessionCookie } from "~/auth/session-cookie.server";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { getDb } from "~/lib/db.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { clientError, readForm, requestMeta } from "~/lib/http.server";
import { OUT_OF_DATE_MESSAGE, parseWith } from "~/lib/validation";
import { signOut } from "~/models/sessions.server";

export const meta: MetaFunction = () => [{ title: "Sign out · Many Futures" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  if (!(await getViewer(request, context))) throw redirect("/");
  return null;
}

const signOutSchema = z.object({ scope: z.literal("everywhere").optional() });

export async function action({ request, context }: ActionFunctionArgs) {
  const parsed = parseWith(signOutSchema, await readForm(request));
  if (!parsed.ok) throw clientError(request, 400, OUT_OF_DATE_MESSAGE);
  const everywhere = parsed.data.scope === "everywhere";
  const viewer = await getViewer(request, context);
  if (viewer) {
    if (viewer.clerk) await revokeClerkSessions(viewer.clerk, everywhere);
    await signOut(getDb(), sessionActor(viewer), everywhere ? "everywhere" : "session", requestMeta(request, context));
  }
  const headers = new Headers({ "Set-Cookie": await clearSessionCookie(request) });
  if (viewer?.clerk) for (const cookie of CLERK_SIGNED_OUT_COOKIES) headers.append("Set-Cookie", cookie);
  return redirectWithFlash(request, "/", { message: everywhere ? "You are signed out on every device." : "You are signed out." }, headers);
}

export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

export default function SignOutPage() {
  return (
    <section className="narrow stack" aria-labelledby="signout-title">
      <h1 id="signout-title">Sign out</h1>
      <Form method="post">
        <button type="submit" className="button">
          Sign out of this browser
        </button>
      </Form>
      <Form method="post">
        <input type="hidden" name="scope" value="everywhere" />
        <button type="submit" className="button button--secondary">
          Sign out everywhere
        </button>
        <p className="muted">Ends every session of yours, on all devices.</p>
      </Form>
    </section>
  );
}
