import { useEffect, useRef, type MouseEvent } from "react";

/**
 * With JavaScript a link to a field moves focus there itself: following the fragment would be a navigation,
 * and the router forgets the submission's errors on every navigation.
 */
function focusField(event: MouseEvent<HTMLAnchorElement>, id: string) {
  const field = document.getElementById(id);
  if (!field) return;
  event.preventDefault();
  field.scrollIntoView({ block: "center" });
  field.focus();
}

/**
 * What went wrong with a submitted form, at the top of the page (the GOV.UK pattern): without JavaScript the
 * answer to a POST opens at the top, where a message next to a form further down would go unseen. Each field's
 * error links to that field; `form` holds a message for the whole form. With JavaScript the summary takes
 * focus, so it is scrolled into view and read out.
 */
export function ErrorSummary({ errors, fieldIds }: { errors: Record<string, string> | undefined; fieldIds: Record<string, string> }) {
  const summary = useRef<HTMLDivElement>(null);
  // The message about the whole form first, then the fields in the order the form asks for them.
  const entries = Object.entries(errors ?? {}).sort(([a], [b]) => (a === "form" ? -1 : b === "form" ? 1 : 0));
  const key = entries.map(([field, message]) => `${field}:${message}`).join("|");
  useEffect(() => {
    if (key) summary.current?.focus();
  }, [key]);
  if (!entries.length) return null;
  return (
    <div className="error-summary" role="alert" aria-labelledby="error-summary-title" tabIndex={-1} ref={summary}>
      <h2 id="error-summary-title">There is a problem</h2>
      <ul>
        {entries.map(([field, message]) => (
          <li key={field}>
            {fieldIds[field] ? (
              <a href={`#${fieldIds[field]}`} onClick={(event) => focusField(event, fieldIds[field])}>
                {message}
              </a>
            ) : (
              message
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
