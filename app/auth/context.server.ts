import { redirect, type AppLoadContext } from "@remix-run/node";
import { clerkEnabled, getConfig } from "~/lib/config.server";
import { getDb } from "~/lib/db.server";
import { isApiRequest, jsonResponse, requestMeta } from "~/lib/http.server";
import { ensureClerkIdentity } from "~/models/clerk-sync.server";
import { findMembership, listMembershipsForUser, type Actor, type MembershipSummary } from "~/models/organizations.server";
import { findSession, type SessionActor } from "~/models/sessions.server";
import { getUserProfile } from "~/models/users.server";
import { readClerkIdentity } from "./clerk.server";
import { readSessionToken } from "./session-cookie.server";

export interface Viewer {
  provider: "builtin" | "clerk";
  userId: string;
  name: string;
  email: string | null;
  /** The built-in session's id. */
  sessionId: string | null;
  /** In Clerk mode, Clerk's ids for the person and their session. */
  clerk: { clerkUserId: string; clerkSessionId: string | null } | null;
  organization: MembershipSummary | null;
  memberships: MembershipSummary[];
}

async function builtinViewer(request: Request): Promise<Viewer | null> {
  const token = await readSessionToken(request);
  if (!token) return null;
  const db = getDb();
  const session = await findSession(db, token);
  if (!session) return null;
  const memberships = await listMembershipsForUser(db, session.userId);
  // The session's organization is gone (removed, or never set): work in their first one. Computed, not stored:
  // reading who is asking writes nothing; switching stores a choice.
  const organization = memberships.find((m) => m.organizationId === session.organizationId) ?? memberships[0] ?? null;
  return {
    provider: "builtin",
    userId: session.userId,
    name: session.userName,
    email: session.userEmail,
    sessionId: session.id,
    clerk: null,
    organization,
    memberships,
  };
}

async function clerkViewer(request: Request, context: AppLoadContext): Promise<Viewer | null> {
  const identity = await readClerkIdentity(request);
  if (!identity) return null;
  const db = getDb();
  const mirrored = await ensureClerkIdentity(db, identity, requestMeta(request, context));
  if (!mirrored.userId) return null;
  const organization = mirrored.organizationId ? ((await findMembership(db, mirrored.organizationId, mirrored.userId)) ?? null) : null;
  const user = await getUserProfile(db, mirrored.userId);
  return {
    provider: "clerk",
    userId: mirrored.userId,
    name: user?.name ?? "",
    email: user?.email ?? null,
    sessionId: null,
    clerk: { clerkUserId: identity.clerkUserId, clerkSessionId: identity.clerkSessionId },
    organization,
    // In Clerk mode the active organization is chosen in Clerk; we only know the one in the token.
    memberships: organization ? [organization] : [],
  };
}

// The root loader and the route's loader both ask during one document request. Remix hands each loader its own
// Request but the same load context, so the answer is kept per context. Only reads share it: after an action the
// answer may have changed, so actions look it up afresh.
const viewers = new WeakMap<AppLoadContext, Promise<Viewer | null>>();

function lookUpViewer(request: Request, context: AppLoadContext): Promise<Viewer | null> {
  return clerkEnabled(getConfig()) ? clerkViewer(request, context) : builtinViewer(request);
}

/** The signed-in person, or null. */
export function getViewer(request: Request, context: AppLoadContext): Promise<Viewer | null> {
  if (request.method !== "GET" && request.method !== "HEAD") return lookUpViewer(request, context);
  let viewer = viewers.get(context);
  if (!viewer) {
    viewer = lookUpViewer(request, context);
    viewers.set(context, viewer);
  }
  return viewer;
}

/** The person as the actor of writes about their own account and sessions. */
export function sessionActor(viewer: Viewer): SessionActor {
  return {
    userId: viewer.userId,
    label: viewer.email ?? viewer.name,
    sessionId: viewer.sessionId,
    organizationId: viewer.organization?.organizationId ?? null,
  };
}

function signInRedirect(request: Request): Response {
  const url = new URL(request.url);
  return redirect(`/signin?redirectTo=${encodeURIComponent(`${url.pathname}${url.search}`)}`);
}

/** The signed-in person; otherwise pages redirect to sign-in (returning here after) and the API answers 401. */
export async function requireViewer(request: Request, context: AppLoadContext): Promise<Viewer> {
  const viewer = await getViewer(request, context);
  if (viewer) return viewer;
  throw isApiRequest(request) ? jsonResponse({ error: "sign in required" }, { status: 401 }) : signInRedirect(request);
}

/**
 * The only way routes learn who is asking and in which organization: the actor { userId, organizationId, role,
 * label } that model functions take, whichever provider signed them in. Without a session: sign-in (pages)
 * or 401 (API). Signed in without an active organization: a page that explains how to get one, or 403.
 */
export async function requireOrgContext(request: Request, context: AppLoadContext): Promise<Actor> {
  const viewer = await requireViewer(request, context);
  if (!viewer.organization) {
    throw isApiRequest(request)
      ? jsonResponse({ error: "no active organization: create or choose one first" }, { status: 403 })
      : redirect("/no-organization");
  }
  return {
    userId: viewer.userId,
    organizationId: viewer.organization.organizationId,
    role: viewer.organization.role,
    label: viewer.email ?? viewer.name,
  };
}

/** What a route answers when a model refuses with `forbidden`: 403, as JSON for the API. */
export function forbiddenResponse(request: Request, message = "Your role in this organization does not allow this."): Response {
  return isApiRequest(request)
    ? jsonResponse({ error: message }, { status: 403 })
    : new Response(message, { status: 403, statusText: "Forbidden" });
}

export type { Actor };
