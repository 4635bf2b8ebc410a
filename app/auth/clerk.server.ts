// The only server module that imports @clerk/remix: moving to @clerk/react-router changes this file (and
// clerk-ui.tsx for the components), not the routes.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { createClerkClient } from "@clerk/backend";
import { getAuth, rootAuthLoader } from "@clerk/remix/ssr.server";
import { getConfig } from "~/lib/config.server";
import type { Role } from "~/lib/roles";

export interface ClerkIdentity {
  clerkUserId: string;
  clerkSessionId: string | null;
  clerkOrganizationId: string | null;
  organizationRole: Role | null;
  organizationSlug: string | null;
  /** When Clerk issued the token: a membership Clerk deleted after this is not brought back by it. */
  issuedAt: Date | null;
}

/** Clerk's `org:admin`/`org:member`, plus a custom `org:owner`; any other custom role counts as a member. */
export function roleFromClerk(role: string | null | undefined): Role | null {
  if (!role) return null;
  const name = role.replace(/^org:/, "");
  return name === "owner" || name === "admin" ? name : "member";
}

/**
 * Verifies the Clerk session token (cookie or Bearer header). With CLERK_JWT_KEY set this needs no network;
 * both v1 (`org_id`, `org_role`) and v2 (`o`) organization claims are read by Clerk's own parser.
 */
export async function readClerkIdentity(request: Request): Promise<ClerkIdentity | null> {
  const auth = await getAuth({ request, context: {}, params: {} } as LoaderFunctionArgs);
  if (!auth.userId) return null;
  return {
    clerkUserId: auth.userId,
    clerkSessionId: auth.sessionId ?? null,
    clerkOrganizationId: auth.orgId ?? null,
    organizationRole: roleFromClerk(auth.orgRole),
    organizationSlug: auth.orgSlug ?? null,
    issuedAt: typeof auth.sessionClaims?.iat === "number" ? new Date(auth.sessionClaims.iat * 1000) : null,
  };
}

/** The root loader in Clerk mode: adds Clerk's state for its components to our own root data. */
export function clerkRootLoader<T extends Record<string, unknown>>(args: LoaderFunctionArgs, data: T) {
  return rootAuthLoader(args, () => data);
}

function backendClient() {
  const config = getConfig();
  return createClerkClient({ secretKey: config.CLERK_SECRET_KEY, apiUrl: config.CLERK_API_URL });
}

/**
 * Signs out without JavaScript: revokes the session (or every active session of the user) through Clerk's
 * Backend API, then the caller clears Clerk's cookies on our domain.
 */
export async function revokeClerkSessions(identity: { clerkUserId: string; clerkSessionId: string | null }, everywhere: boolean) {
  const clerk = backendClient();
  if (!everywhere) {
    if (identity.clerkSessionId) await clerk.sessions.revokeSession(identity.clerkSessionId);
    return;
  }
  const { data } = await clerk.sessions.getSessionList({ userId: identity.clerkUserId, status: "active" });
  await Promise.all(data.map((session) => clerk.sessions.revokeSession(session.id)));
}

/** Cookies that tell Clerk's server-side check this browser is signed out. */
export const CLERK_SIGNED_OUT_COOKIES = ["__session=; Path=/; Max-Age=0; SameSite=Lax", "__client_uat=0; Path=/; SameSite=Lax"];
