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

/** A message next to a generation form, announced when it appears. */
function RequestError({ id, children }: { id: string; children?: string }) {
  if (!children) return null;
  return (
    <p className="field__error" id={id} role="alert">
      {children}
    </p>
  );
}

/** "Generate now" on the project page: a plain form, so it works without JavaScript. */
export function GenerateNowForm({ error }: { error?: string }) {
  return (
    <Form method="post" className="inline-form">
      <input type="hidden" name="intent" value="generate-now" />
      <button type="submit" className="button" aria-describedby={error ? "generate-now-error" : undefined}>
        Generate now
      </button>
      <RequestError id="generate-now-error">{error}</RequestError>
    </Form>
  );
}

/** "Try again" on a failed episode. */
export function RetryForm({ error }: { error?: string }) {
  return (
    <Form method="post" className="inline-form">
      <input type="hidden" name="intent" value="retry" />
      <button type="submit" className="button" aria-describedby={error ? "retry-error" : undefined}>
        Try again
      </button>
      <RequestError id="retry-error">{error}</RequestError>
    </Form>
  );
}
