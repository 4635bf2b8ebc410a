import { Form } from "@remix-run/react";

export type GenerationRequestRefusal = "forbidden" | "not_found" | "archived" | "in_flight" | "not_failed";

/** Why "Generate now" or "Try again" was refused, in words a person can act on. */
export function generationRequestMessage(reason: GenerationRequestRefusal): string {
  switch (reason) {
    case "forbidden":
      return "Only owners and admins can ask for an episode: each one spends the organization's budget.";
    case "not_found":
      return "That episode or project no longer exists.";
    case "archived":
      return "This project is archived. Restore it in settings to generate episodes again.";
    case "in_flight":
      return "An episode is already on its way for this project. Open it from the list to watch it take shape.";
    case "not_failed":
      return "This episode is no longer failed: it is already being tried again or was published.";
  }
}

export function generationRequestStatus(reason: GenerationRequestRefusal): number {
  return reason === "forbidden" ? 403 : reason === "not_found" ? 404 : 409;
}

/**
 * A one-button form ("Generate now", "Try again"): a plain POST, so it works without JavaScript, with its refusal
 * announced beside the button.
 */
function IntentForm({ intent, label, error }: { intent: string; label: string; error?: string }) {
  const errorId = `${intent}-error`;
  return (
    <Form method="post" className="inline-form">
      <input type="hidden" name="intent" value={intent} />
      <button type="submit" id={intent} className="button" aria-describedby={error ? errorId : undefined}>
        {label}
      </button>
      {error ? (
        <p className="field__error" id={errorId} role="alert">
          {error}
        </p>
      ) : null}
    </Form>
  );
}

/** "Generate now" on the project page. */
export function GenerateNowForm({ error }: { error?: string }) {
  return <IntentForm intent="generate-now" label="Generate now" error={error} />;
}

/** "Try again" on a failed episode. */
export function RetryForm({ error }: { error?: string }) {
  return <IntentForm intent="retry" label="Try again" error={error} />;
}
