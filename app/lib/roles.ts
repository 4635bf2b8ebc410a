export const ROLES = ["owner", "admin", "member"] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_LABELS: Record<Role, string> = { owner: "Owner", admin: "Admin", member: "Member" };

/** Owners and admins invite people and revoke invitations; only owners may make someone an owner. */
export function canInvite(role: Role, invitedRole: Role): boolean {
  if (role === "owner") return true;
  return role === "admin" && invitedRole !== "owner";
}

/** Only owners change roles and remove members. */
export function canManageMembers(role: Role): boolean {
  return role === "owner";
}

/**
 * Owners and admins archive, restore and delete projects; members work inside projects (notes, settings) but
 * cannot take one away from everyone else.
 */
export function canManageProjectLifecycle(role: Role): boolean {
  return role === "owner" || role === "admin";
}

/** Owners and admins set the daily budget and see its details (per project, per model, the ledger). */
export function canManageBudget(role: Role): boolean {
  return role === "owner" || role === "admin";
}
