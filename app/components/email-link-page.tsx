import { Form, Link } from "@remix-run/react";
import { ErrorPage, GeneralErrorBoundary } from "./error-boundary";
import { ErrorSummary } from "./error-summary";

/**
 * The page an emailed link opens: the link changes nothing until its button is pressed, so mail scanners that
 * follow links use nothing up.
 */
export function EmailLinkPage({ title, explanation, button, error }: { title: string; explanation: string; button: string; error?: string }) {
  return (
    <section className="narrow stack" aria-labelledby="link-title">
      <h1 id="link-title">{title}</h1>
      <ErrorSummary errors={error ? { form: error } : undefined} fieldIds={{}} />
      <p>{explanation}</p>
      <Form method="post">
        <button type="submit" className="button">
          {button}
        </button>
      </Form>
    </section>
  );
}

/** A link route's error boundary: a used, expired or unknown link (404) says so and offers the way to a new one. */
export function ExpiredLinkBoundary({ next }: { next: { to: string; label: string } }) {
  return (
    <GeneralErrorBoundary
      statusHandlers={{
        404: ({ error }) => (
          <ErrorPage title="This link does not work any more">
            <p>{typeof error.data === "string" ? error.data : "This link was used already, or has expired."}</p>
            <p>
              <Link to={next.to}>{next.label}</Link>
            </p>
          </ErrorPage>
        ),
      }}
    />
  );
}

/** The answer for a used, expired or unknown link, as a page (the boundary above) or a data request's 404. */
export function expiredLink(message: string): Response {
  return new Response(message, { status: 404, headers: { "Content-Type": "text/plain; charset=utf-8" } });
}
