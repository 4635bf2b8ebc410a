import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { Field, FormMessage } from "~/components/form";
import { forbiddenResponse, requireOrgContext } from "~/auth/context.server";
import { absoluteUrl } from "~/lib/app-url.server";
import { clerkEnabled } from "~/lib/config.server";
import { getDb } from "~/lib/db.server";
import { jsonResponse, notFound, requestMeta } from "~/lib/http.server";
import { canInvite, canManageMembers, ROLE_LABELS, ROLES } from "~/lib/roles";
import { emailField, formValues, parseWith } from "~/lib/validation";
import { createInvitation, listPendingInvitations, revokeInvitation } from "~/models/invitations.server";
import { changeMemberRole, getOrganization, listMembers, removeMember } from "~/models/organizations.server";

export const meta: MetaFunction = () => [{ title: "Organization · Many Futures" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const actor = await requireOrgContext(request, context);
  const db = getDb();
  const [organization, members, invitations] = await Promise.all([
    getOrganization(db, actor.organizationId),
    listMembers(db, actor.organizationId),
    listPendingInvitations(db, actor.organizationId),
  ]);
  return {
    organization: { name: organization!.name, isPersonal: organization!.isPersonal },
    members,
    invitations: canInvite(actor.role, "member") ? invitations : [],
    me: { userId: actor.userId, role: actor.role },
    managedInClerk: clerkEnabled(),
  };
}

const roleField = z.enum(ROLES, { error: "Choose owner, admin or member." });
const inviteSchema = z.object({ intent: z.literal("invite"), email: emailField, role: roleField });
const changeRoleSchema = z.object({ intent: z.literal("change-role"), membershipId: z.uuid(), role: roleField });
const removeSchema = z.object({ intent: z.literal("remove"), membershipId: z.uuid() });
const revokeSchema = z.object({ intent: z.literal("revoke"), invitationId: z.uuid() });
const actionSchema = z.discriminatedUnion("intent", [inviteSchema, changeRoleSchema, removeSchema, revokeSchema], {
  error: "Unknown action.",
});

type ActionData =
  | { intent: "invite"; errors?: Record<string, string>; values?: Record<string, unknown>; inviteLink?: string; invitedEmail?: string }
  | { intent: "member"; errors?: Record<string, string>; message?: string };

export async function action({ request, context }: ActionFunctionArgs) {
  const actor = await requireOrgContext(request, context);
  if (clerkEnabled()) return jsonResponse({ errors: { form: "Members are managed in Clerk." } }, { status: 400 });
  const values = formValues(await request.formData());
  const parsed = parseWith(actionSchema, values);
  if (!parsed.ok) {
    const intent = values.intent === "invite" ? "invite" : "member";
    return jsonResponse({ intent, errors: parsed.errors, values } satisfies ActionData, { status: 400 });
  }
  const db = getDb();
  const meta = requestMeta(request, context);
  const input = parsed.data;

  switch (input.intent) {
    case "invite": {
      const result = await createInvitation(db, actor, { email: input.email, role: input.role }, meta);
      if (!result.ok && result.reason === "forbidden") throw forbiddenResponse(request);
      if (!result.ok) {
        return jsonResponse(
          { intent: "invite", errors: { email: "This person is already a member." }, values } satisfies ActionData,
          { status: 400 },
        );
      }
      const inviteLink = absoluteUrl(`/invitations/${result.token}`);
      return { intent: "invite", inviteLink, invitedEmail: input.email } satisfies ActionData;
    }
    case "revoke": {
      const result = await revokeInvitation(db, actor, input.invitationId, meta);
      if (!result.ok) throw result.reason === "forbidden" ? forbiddenResponse(request) : notFound(request);
      return { intent: "member", message: "Invitation revoked." } satisfies ActionData;
    }
    case "change-role":
    case "remove": {
      const result =
        input.intent === "remove"
          ? await removeMember(db, actor, input.membershipId, meta)
          : await changeMemberRole(db, actor, input.membershipId, input.role, meta);
      if (!result.ok && result.reason === "not_found") throw notFound(request);
      if (!result.ok && result.reason === "forbidden") throw forbiddenResponse(request);
      if (!result.ok) {
        return jsonResponse(
          {
            intent: "member",
            errors: { form: "An organization needs at least one owner. Make someone else an owner first." },
          } satisfies ActionData,
          { status: 409 },
        );
      }
      return { intent: "member", message: input.intent === "remove" ? "Member removed." : "Role changed." } satisfies ActionData;
    }
  }
}

export default function OrganizationPage() {
  const { organization, members, invitations, me, managedInClerk } = useLoaderData<typeof loader>();
  const actionData = useActionData<ActionData>();
  const invite = actionData?.intent === "invite" ? actionData : undefined;
  const member = actionData?.intent === "member" ? actionData : undefined;
  const mayInvite = !managedInClerk && canInvite(me.role, "member");
  const mayManage = !managedInClerk && canManageMembers(me.role);

  return (
    <div className="stack">
      <h1>{organization.name}</h1>
      <p className="muted">
        You are {ROLE_LABELS[me.role].toLowerCase() === "owner" ? "an owner" : `a ${ROLE_LABELS[me.role].toLowerCase()}`} of
        this organization{organization.isPersonal ? ", your personal one" : ""}.
      </p>

      <section aria-labelledby="members-title">
        <h2 id="members-title">Members</h2>
        <FormMessage>{member?.errors?.form}</FormMessage>
        <FormMessage tone="success">{member?.message}</FormMessage>
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              {mayManage ? <th scope="col">Manage</th> : null}
            </tr>
          </thead>
          <tbody>
            {members.map((m) => (
              <tr key={m.membershipId}>
                <td>{m.name || "—"}</td>
                <td>{m.email ?? "—"}</td>
                <td>{ROLE_LABELS[m.role]}</td>
                {mayManage ? (
                  <td>
                    <Form method="post" className="inline-form">
                      <input type="hidden" name="intent" value="change-role" />
                      <input type="hidden" name="membershipId" value={m.membershipId} />
                      <label htmlFor={`role-${m.membershipId}`}>
                        Role for {m.name || m.email}
                      </label>
                      <select id={`role-${m.membershipId}`} name="role" defaultValue={m.role}>
                        {ROLES.map((role) => (
                          <option key={role} value={role}>
                            {ROLE_LABELS[role]}
                          </option>
                        ))}
                      </select>
                      <button type="submit" className="button button--secondary">
                        Change role of {m.name || m.email}
                      </button>
                    </Form>{" "}
                    {m.userId !== me.userId ? (
                      <Form method="post" className="inline-form">
                        <input type="hidden" name="intent" value="remove" />
                        <input type="hidden" name="membershipId" value={m.membershipId} />
                        <button type="submit" className="link-button">
                          Remove {m.name || m.email}
                        </button>
                      </Form>
                    ) : null}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      {mayInvite ? (
        <section aria-labelledby="invite-title" className="narrow">
          <h2 id="invite-title">Invite someone</h2>
          {invite?.inviteLink ? (
            <div className="notice notice--success" role="status">
              <p>
                Invitation created for {invite.invitedEmail}. Until email delivery is switched on, send them this link
                yourself:
              </p>
              <p className="copy-box" data-testid="invite-link">
                {invite.inviteLink}
              </p>
            </div>
          ) : null}
          <Form method="post" noValidate>
            <input type="hidden" name="intent" value="invite" />
            <Field
              label="Email"
              name="email"
              type="email"
              required
              defaultValue={invite?.inviteLink ? "" : String(invite?.values?.email ?? "")}
              error={invite?.errors?.email}
            />
            <div className="field">
              <label htmlFor="invite-role">Role</label>
              <select id="invite-role" name="role" defaultValue={String(invite?.values?.role ?? "member")}>
                {ROLES.filter((role) => canInvite(me.role, role)).map((role) => (
                  <option key={role} value={role}>
                    {ROLE_LABELS[role]}
                  </option>
                ))}
              </select>
              {invite?.errors?.role ? <p className="field__error">{invite.errors.role}</p> : null}
            </div>
            <button type="submit" className="button">
              Send invitation
            </button>
          </Form>
        </section>
      ) : null}

      {mayInvite && invitations.length ? (
        <section aria-labelledby="pending-title">
          <h2 id="pending-title">Pending invitations</h2>
          <ul>
            {invitations.map((i) => (
              <li key={i.id}>
                {i.email} as {ROLE_LABELS[i.role].toLowerCase()}, expires {new Date(i.expiresAt).toUTCString()}{" "}
                <Form method="post" className="inline-form">
                  <input type="hidden" name="intent" value="revoke" />
                  <input type="hidden" name="invitationId" value={i.id} />
                  <button type="submit" className="link-button">
                    Revoke invitation for {i.email}
                  </button>
                </Form>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}
