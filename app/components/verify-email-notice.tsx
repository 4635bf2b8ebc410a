import { Form } from "@remix-run/react";

/**
 * Shown where an unverified account is stopped (accepting an invitation, adding subscribers): why, and a form
 * that mails a new link and comes back here.
 */
export function VerifyEmailNotice({ email, action, returnTo }: { email: string | null; action: string; returnTo: string }) {
  return (
    <div className="notice notice--error stack" role="alert" aria-labelledby="verify-notice-title">
      <h2 id="verify-notice-title">Confirm your email address first</h2>
      <p>
        Before you can {action}, confirm that {email ?? "your address"} is yours: open the link in the email we sent when you signed up.
      </p>
      <Form method="post" action="/verify-email">
        <input type="hidden" name="redirectTo" value={returnTo} />
        <button type="submit" className="button button--secondary">
          Send me a new confirmation link
        </button>
      </Form>
    </div>
  );
}
