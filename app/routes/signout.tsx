import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { Form } from "@remix-run/react";
import { CLERK_SIGNED_OUT_COOKIES, revokeClerkSessions } from "~/auth/clerk.server";
import { getViewer, sessionActor } from "~/auth/context.server";
import { clearSessionCookie } from "~/auth/session-cookie.server";
import { getDb } from "~/lib/db.server";
import { requestMeta } from "~/lib/http.server";
import { signOut } from "~/models/sessions.server";

export const meta: MetaFunction = () => [{ title: "Sign out · Many Futures" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  if (!(await getViewer(request, context))) throw redirect("/");
  return null;
}

export async function action({ request, context }: ActionFunctionArgs) {
  const everywhere = (await request.formData()).get("scope") === "everywhere";
  const viewer = await getViewer(request, context);
  if (viewer) {
    if (viewer.clerk) await revokeClerkSessions(viewer.clerk, everywhere);
    await signOut(getDb(), sessionActor(viewer), everywhere ? "everywhere" : "session", requestMeta(request, context));
  }
  const headers = new Headers({ "Set-Cookie": await clearSessionCookie(request) });
  if (viewer?.clerk) for (const cookie of CLERK_SIGNED_OUT_COOKIES) headers.append("Set-Cookie", cookie);
  return redirect("/", { headers });
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
