import { Form, Link } from "@remix-run/react";
import { ErrorSummary } from "./error-summary";

/**
 * The page an emailed link opens: the link changes nothing until its button is pressed, so mail scanners that
 * follow links use nothing up.
 */
export function EmailLinkPage({
  title,
  explanation,
  button,
  error,
}: {
  title: string;
  explanation: string;
  button: string;
  error?: string;
}) {
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

/** What a used, expired or unknown link shows, with the way to get a new one. */
export function ExpiredLink({ message, next }: { message: string; next: { to: string; label: string } }) {
  return (
    <section className="narrow stack" aria-labelledby="link-title">
      <h1 id="link-title">This link does not work any more</h1>
      <p>{message}</p>
      <p>
        <Link to={next.to}>{next.label}</Link>
      </p>
    </section>
  );
}
