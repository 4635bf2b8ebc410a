import { ROLE_LABELS, type Role } from "~/lib/roles";

/** "an owner", "an admin", "a member": a role as it reads in a sentence. */
export function roleWithArticle(role: Role): string {
  const name = ROLE_LABELS[role].toLowerCase();
  return /^[aeiou]/.test(name) ? `an ${name}` : `a ${name}`;
}
