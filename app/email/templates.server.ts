import { render, toPlainText } from "@react-email/components";
import { createElement, type ComponentType } from "react";
import type { EmailKind, EmailPayloads } from "~/models/email-deliveries.server";
import BudgetAlertEmail from "../../emails/budget-alert";
import EmailVerificationEmail from "../../emails/email-verification";
import EpisodeEmail, { type EpisodeEmailProps } from "../../emails/episode";
import GenerationFailedEmail from "../../emails/generation-failed";
import InvitationEmail from "../../emails/invitation";
import PasswordResetEmail from "../../emails/password-reset";
import SignInLinkEmail from "../../emails/sign-in-link";
import SubscriptionConfirmationEmail from "../../emails/subscription-confirmation";

export type { EpisodeEmailProps };

/**
 * What each template renders from. Every kind but the episode renders straight from its stored payload; the
 * episode's props are put together at send time from the episode, the project and the subscriber
 * (see app/email/episode-email.server.ts).
 */
export type TemplateProps = { [K in EmailKind]: K extends "episode" ? EpisodeEmailProps : EmailPayloads[K] };

interface Template<K extends EmailKind> {
  component: ComponentType<TemplateProps[K]>;
  subject: (props: TemplateProps[K]) => string;
  /** Realistic data, the same the preview server shows. */
  sample: TemplateProps[K];
}

type Registry = { [K in EmailKind]: Template<K> };

export const templates: Registry = {
  episode: {
    component: EpisodeEmail,
    subject: (props) => `${props.title} · ${props.projectName}`,
    sample: EpisodeEmail.PreviewProps,
  },
  subscription_confirmation: {
    component: SubscriptionConfirmationEmail,
    subject: (props) => `Confirm your subscription to ${props.projectName}`,
    sample: SubscriptionConfirmationEmail.PreviewProps,
  },
  invitation: {
    component: InvitationEmail,
    subject: (props) => `${props.inviterName} invited you to ${props.organizationName} on Many Futures`,
    sample: InvitationEmail.PreviewProps,
  },
  password_reset: {
    component: PasswordResetEmail,
    subject: () => "Reset your Many Futures password",
    sample: PasswordResetEmail.PreviewProps,
  },
  generation_failed: {
    component: GenerationFailedEmail,
    subject: (props) => `An episode of ${props.projectName} could not be written`,
    sample: GenerationFailedEmail.PreviewProps,
  },
  budget_alert: {
    component: BudgetAlertEmail,
    subject: (props) =>
      props.level === "reached"
        ? `${props.organizationName} reached its daily spending limit`
        : `${props.organizationName} is close to its daily spending limit`,
    sample: BudgetAlertEmail.PreviewProps,
  },
  email_verification: {
    component: EmailVerificationEmail,
    subject: () => "Confirm your email address for Many Futures",
    sample: EmailVerificationEmail.PreviewProps,
  },
  sign_in_link: {
    component: SignInLinkEmail,
    subject: () => "Sign in to Many Futures",
    sample: SignInLinkEmail.PreviewProps,
  },
};

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

/** Subject, HTML and the plain-text part of one email. */
export async function renderEmail<K extends EmailKind>(kind: K, props: TemplateProps[K]): Promise<RenderedEmail> {
  const template = templates[kind] as unknown as Template<K>;
  const element = createElement(template.component as ComponentType<object>, props as object);
  const html = await render(element);
  // What render(element, { plainText: true }) returns, without rendering the tree a second time.
  const text = toPlainText(html);
  return { subject: template.subject(props).replace(/[\r\n]+/g, " ").slice(0, 998), html, text };
}
