// The only server module that imports @clerk/remix: moving to @clerk/react-router changes this file (and
// clerk-ui.tsx for the components), not the routes.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { getAuth, rootAuthLoader } from "@clerk/remix/ssr.server";
import type { Role } from "~/lib/roles";

export interface ClerkIdentity {
  clerkUserId: string;
  clerkOrganizationId: string | null;
  organizationRole: Role | null;
  organizationSlug: string | null;
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
    clerkOrganizationId: auth.orgId ?? null,
    organizationRole: roleFromClerk(auth.orgRole),
    organizationSlug: auth.orgSlug ?? null,
  };
}

/** The root loader in Clerk mode: adds Clerk's state for its components to our own root data. */
export function clerkRootLoader<T extends Record<string, unknown>>(args: LoaderFunctionArgs, data: T) {
  return rootAuthLoader(args, () => data);
}
