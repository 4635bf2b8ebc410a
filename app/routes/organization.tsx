import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { ErrorSummary } from "~/components/error-summary";
import { BudgetNotice } from "~/components/budget-notice";
import { Field } from "~/components/form";
import { roleWithArticle } from "~/components/roles";
import { TimeZoneSelect } from "~/components/time-zone-select";
import { budgetNotice, describeToday } from "~/budget/usage-view.server";
import { forbiddenResponse, requireOrgContext } from "~/auth/context.server";
import { absoluteUrl } from "~/lib/app-url.server";
import { clerkEnabled } from "~/lib/config.server";
import { getDb } from "~/lib/db.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { jsonResponse, notFound, readForm, requestMeta } from "~/lib/http.server";
import { getLogger } from "~/lib/logger.server";
import { formatGbp, MICROS_PER_POUND, parseGbp } from "~/lib/money";
import { canInvite, canManageBudget, canManageMembers, ROLE_LABELS, ROLES } from "~/lib/roles";
import { canonicalTimeZone, timeZoneOptions } from "~/lib/schedule.server";
import { emailField, parseWith, visibleErrors, type FieldErrors, type FormFields } from "~/lib/validation";
import { createInvitation, listPendingInvitations, revokeInvitation } from "~/models/invitations.server";
import { listBudgetAlerts } from "~/models/budget-alerts.server";
import { changeMemberRole, getOrganization, listMembers, removeMember, updateBudgetSettings } from "~/models/organizations.server";
import { getBudgetDay } from "~/models/usage.server";

export const meta: MetaFunction = () => [{ title: "Organization · Many Futures" }];

const MANAGED_IN_CLERK = "Members are managed in Clerk: invite people, change roles and remove members from the organization menu.";

export async function loader({ request, context }: LoaderFunctionArgs) {
  const actor = await requireOrgContext(request, context);
  const db = getDb();
  const [organization, members, invitations, day] = await Promise.all([
    getOrganization(db, actor.organizationId),
    listMembers(db, actor.organizationId),
    listPendingInvitations(db, actor.organizationId),
    getBudgetDay(db, actor.organizationId),
  ]);
  const mayManageBudget = canManageBudget(actor.role);
  const alerts = mayManageBudget ? await listBudgetAlerts(db, actor.organizationId, day.usageDate) : [];
  // A personal organization is its founder's: the member who has been in it longest.
  const founder = organization!.isPersonal
    ? members.reduce<(typeof members)[number] | undefined>((first, m) => (!first || m.createdAt < first.createdAt ? m : first), undefined)
    : undefined;
  return {
    organization: {
      name: organization!.name,
      personalTo: founder ? (founder.userId === actor.userId ? "me" : founder.name || founder.email || "another member") : null,
    },
    members,
    invitations: canInvite(actor.role, "member") ? invitations : [],
    me: { userId: actor.userId, role: actor.role },
    managedInClerk: clerkEnabled(),
    budget: {
      limitLabel: formatGbp(organization!.dailyCostLimitGbpMicros),
      limitInput: (organization!.dailyCostLimitGbpMicros / MICROS_PER_POUND).toFixed(2),
      timeZone: organization!.timeZone,
      today: describeToday(day),
      canManage: mayManageBudget,
      notice: mayManageBudget ? budgetNotice(day, alerts) : null,
    },
    zones: mayManageBudget ? timeZoneOptions() : [],
  };
}

const roleField = z.enum(ROLES, { error: "Choose owner, admin or member." });
const inviteSchema = z.object({ intent: z.literal("invite"), email: emailField, role: roleField });
const changeRoleSchema = z.object({ intent: z.literal("change-role"), membershipId: z.uuid(), role: roleField });
const removeSchema = z.object({ intent: z.literal("remove"), membershipId: z.uuid() });
const revokeSchema = z.object({ intent: z.literal("revoke"), invitationId: z.uuid() });
const MAX_DAILY_LIMIT_GBP_MICROS = 100_000 * MICROS_PER_POUND;
const budgetSchema = z.object({
  intent: z.literal("budget"),
  dailyLimit: z.string({ error: "Give the daily limit in pounds, such as 50 or 12.34." }).transform((text, ctx) => {
    const micros = parseGbp(text);
    if (micros === null || micros > MAX_DAILY_LIMIT_GBP_MICROS) {
      ctx.addIssue({ code: "custom", message: "Give the daily limit in pounds and pence, from £0 to £100,000, such as 50 or 12.34." });
      return z.NEVER;
    }
    return micros;
  }),
  timezone: z.string({ error: "Choose a time zone." }).transform((zone, ctx) => {
    const canonical = canonicalTimeZone(zone);
    if (canonical) return canonical;
    ctx.addIssue({ code: "custom", message: "Choose a time zone from the list, such as Europe/London." });
    return z.NEVER;
  }),
});
const actionSchema = z.discriminatedUnion("intent", [inviteSchema, changeRoleSchema, removeSchema, revokeSchema, budgetSchema], {
  error: "Unknown action.",
});

/** Which form answered: the invitation form, or one of the member and invitation rows. */
type ActionData =
  | { form: "invite"; errors: FieldErrors; values: FormFields }
  | { form: "budget"; errors: FieldErrors; values: FormFields }
  | { form: "member"; errors: FieldErrors };

const BUDGET_FIELDS = { dailyLimit: "field-dailyLimit", timezone: "timezone" };

const INVITE_FIELDS = { email: "field-email", role: "invite-role" };

export async function action({ request, context }: ActionFunctionArgs) {
  const actor = await requireOrgContext(request, context);
  const values = await readForm(request);
  if (clerkEnabled() && values.intent !== "budget") {
    return jsonResponse({ form: "member", errors: { form: MANAGED_IN_CLERK } } satisfies ActionData, { status: 400 });
  }
  const parsed = parseWith(actionSchema, values);
  if (!parsed.ok) {
    const data: ActionData =
      values.intent === "invite"
        ? { form: "invite", errors: visibleErrors(parsed.errors, Object.keys(INVITE_FIELDS)), values }
        : values.intent === "budget"
          ? { form: "budget", errors: visibleErrors(parsed.errors, Object.keys(BUDGET_FIELDS)), values }
          : { form: "member", errors: visibleErrors(parsed.errors, []) };
    return jsonResponse(data, { status: 400 });
  }
  const db = getDb();
  const meta = requestMeta(request, context);
  const input = parsed.data;

  switch (input.intent) {
    case "budget": {
      const result = await updateBudgetSettings(db, actor, { dailyLimitGbpMicros: input.dailyLimit, timeZone: input.timezone }, meta);
      if (!result.ok) {
        throw result.reason === "forbidden"
          ? forbiddenResponse(request, "Setting the daily budget needs the owner or admin role in this organization.")
          : notFound(request);
      }
      return redirectWithFlash(request, "/organization", {
        message: `Daily budget saved: ${formatGbp(result.organization.dailyCostLimitGbpMicros)} a day, counted in ${result.organization.timeZone}.`,
      });
    }
    case "invite": {
      const result = await createInvitation(db, actor, { email: input.email, role: input.role }, meta);
      if (!result.ok && result.reason === "forbidden") {
        throw forbiddenResponse(request, "Inviting people needs the owner or admin role in this organization.");
      }
      if (!result.ok) {
        return jsonResponse(
          { form: "invite", errors: { email: "This person is already a member." }, values } satisfies ActionData,
          { status: 400 },
        );
      }
      const inviteLink = absoluteUrl(`/invitations/${result.token}`);
      // The link is a credential: it goes to the inviter's page only, and the log names the invitation by id.
      getLogger().info({ invitationId: result.invitation.id }, "invitation created");
      return redirectWithFlash(request, "/organization", {
        message: result.emailed
          ? `Invitation emailed to ${input.email}. If it does not arrive, you can also send them this link yourself:`
          : `Invitation made, but not emailed: mail to ${input.email} bounced or was reported as spam before. Send them this link yourself:`,
        inviteLink,
      });
    }
    case "revoke": {
      const result = await revokeInvitation(db, actor, input.invitationId, meta);
      if (!result.ok) throw result.reason === "forbidden" ? forbiddenResponse(request) : notFound(request);
      return redirectWithFlash(request, "/organization", { message: "Invitation revoked." });
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
            form: "member",
            errors: { form: "An organization needs at least one owner. Make someone else an owner first." },
          } satisfies ActionData,
          { status: 409 },
        );
      }
      return redirectWithFlash(request, "/organization", { message: input.intent === "remove" ? "Member removed." : "Role changed." });
    }
  }
}

export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

export default function OrganizationPage() {
  const { organization, members, invitations, me, managedInClerk, budget, zones } = useLoaderData<typeof loader>();
  const actionData = useActionData<ActionData>();
  const invite = actionData?.form === "invite" ? actionData : undefined;
  const budgetForm = actionData?.form === "budget" ? actionData : undefined;
  const mayInvite = !managedInClerk && canInvite(me.role, "member");
  const mayManage = !managedInClerk && canManageMembers(me.role);

  return (
    <div className="stack">
      <h1>{organization.name}</h1>
      <ErrorSummary errors={actionData?.errors} fieldIds={invite ? INVITE_FIELDS : budgetForm ? BUDGET_FIELDS : {}} />
      <BudgetNotice notice={budget.notice} />
      <p className="muted">
        You are {roleWithArticle(me.role)} of this organization
        {organization.personalTo === "me"
          ? ", your personal one"
          : organization.personalTo
            ? `, the personal organization of ${organization.personalTo}`
            : ""}
        .
      </p>
      {managedInClerk ? <p className="notice">{MANAGED_IN_CLERK}</p> : null}

      <section aria-labelledby="members-title">
        <h2 id="members-title">Members</h2>
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

      <section aria-labelledby="budget-title" className="narrow">
        <h2 id="budget-title">Daily budget</h2>
        <p>
          Episodes may spend up to {budget.limitLabel} a day, counted by the day in {budget.timeZone.replaceAll("_", " ")}. Today{" "}
          {budget.today.spentLabel} is spent and {budget.today.reservedLabel} set aside. {budget.today.status}{" "}
          <Link to="/usage">See usage</Link>
        </p>
        {budget.canManage ? (
          <Form method="post" noValidate>
            <input type="hidden" name="intent" value="budget" />
            <Field
              label="Daily limit (£)"
              name="dailyLimit"
              inputMode="decimal"
              required
              hint="In pounds and pence, such as 50 or 12.34. Nothing new starts once a day's spend and what is set aside would pass it."
              defaultValue={String(budgetForm?.values?.dailyLimit ?? budget.limitInput)}
              error={budgetForm?.errors?.dailyLimit}
            />
            <TimeZoneSelect
              zones={zones}
              defaultValue={String(budgetForm?.values?.timezone ?? budget.timeZone)}
              error={budgetForm?.errors?.timezone}
            />
            <button type="submit" className="button">
              Save the daily budget
            </button>
          </Form>
        ) : (
          <p className="muted">Owners and admins set the daily limit and its time zone.</p>
        )}
      </section>

      {mayInvite ? (
        <section aria-labelledby="invite-title" className="narrow">
          <h2 id="invite-title">Invite someone</h2>
          <Form method="post" noValidate>
            <input type="hidden" name="intent" value="invite" />
            <Field
              label="Email"
              name="email"
              type="email"
              required
              defaultValue={String(invite?.values?.email ?? "")}
              error={invite?.errors?.email}
            />
            <div className="field">
              <label htmlFor="invite-role">Role</label>
              <select
                id="invite-role"
                name="role"
                defaultValue={String(invite?.values?.role ?? "member")}
                aria-invalid={invite?.errors?.role ? true : undefined}
                aria-describedby={invite?.errors?.role ? "invite-role-error" : undefined}
              >
                {ROLES.filter((role) => canInvite(me.role, role)).map((role) => (
                  <option key={role} value={role}>
                    {ROLE_LABELS[role]}
                  </option>
                ))}
              </select>
              {invite?.errors?.role ? (
                <p className="field__error" id="invite-role-error">
                  {invite.errors.role}
                </p>
              ) : null}
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
