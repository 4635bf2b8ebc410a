import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { clerkEnabled, getConfig } from "~/lib/config.server";
import { getDb } from "~/lib/db.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { notFound, readForm, requestMeta } from "~/lib/http.server";
import { safeRedirect } from "~/lib/safe-redirect";
import { findAccountLink, signInWithEmailLink } from "./account-email.server";
import { serializeSessionCookie } from "./session-cookie.server";

// The routes of links that sign their reader in (email verification, sign-in by link): GET shows a button, so a
// mail scanner following the link uses nothing; POST uses the link once and starts a session. `expired` is the
// page's answer to a used, expired or unknown link.

type LinkPurpose = "email_verification" | "sign_in";

export async function showEmailLink({ request, params }: LoaderFunctionArgs, purpose: LinkPurpose, expired: () => Response) {
  if (clerkEnabled()) throw notFound(request);
  const owner = await findAccountLink(getDb(), params.token ?? "", purpose);
  if (!owner) throw expired();
  return { email: owner.email };
}

export async function followEmailLink(
  { request, params, context }: ActionFunctionArgs,
  options: { purpose: LinkPurpose; expired: () => Response; signedInMessage: string },
) {
  if (clerkEnabled()) throw notFound(request);
  await readForm(request);
  const result = await signInWithEmailLink(
    getDb(),
    { token: params.token ?? "", purpose: options.purpose, sessionTtlDays: getConfig().SESSION_TTL_DAYS },
    requestMeta(request, context),
  );
  if (!result.ok) throw options.expired();
  const headers = { "Set-Cookie": await serializeSessionCookie(request, result.session.token, result.session.expiresAt) };
  const to = safeRedirect(new URL(request.url).searchParams.get("redirectTo"));
  return redirectWithFlash(request, to, { message: options.signedInMessage }, headers);
}
