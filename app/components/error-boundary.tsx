import {
  isRouteErrorResponse,
  Link,
  useLocation,
  useParams,
  useRouteError,
  useRouteLoaderData,
  type ErrorResponse,
  type Params,
} from "@remix-run/react";
import type { HeadersFunction } from "@remix-run/node";
import type { ReactNode } from "react";

export type StatusHandler = (info: { error: ErrorResponse; params: Params; requestId: string | null }) => ReactNode;

const TITLES: Record<number, string> = {
  400: "That request could not be used",
  401: "Sign in to continue",
  403: "You can't do that here",
  404: "Page not found",
  405: "That isn't possible here",
  409: "Something changed in the meantime",
  413: "That was too large",
  415: "That form could not be read",
  429: "Too many requests",
};

const DEFAULT_MESSAGES: Record<number, string> = {
  403: "Your role in this organization does not allow this. Ask an owner if you need it.",
  404: "We couldn't find the page you asked for. It may have moved, or the link may be mistyped.",
  405: "This address does not accept that kind of request.",
};

/**
 * The message a thrown response carries, when it was written for people: ours are plain sentences. Errors the
 * router makes itself ("No route matches…") are internal, so they get the status's default text instead.
 */
function readableMessage(error: ErrorResponse): string | null {
  const internal = (error as ErrorResponse & { internal?: boolean }).internal;
  if (internal || typeof error.data !== "string") return null;
  const text = error.data.trim();
  if (!text || text.length > 500 || text === error.statusText || /^(Not Found|Forbidden|Bad Request)$/i.test(text)) return null;
  return text;
}

/** An error page's frame: its title, what happened, and the ways on. */
export function ErrorPage({ title, children }: { title: string; children: ReactNode }) {
  const location = useLocation();
  return (
    <section className="error-page" aria-labelledby="error-title">
      <h1 id="error-title">{title}</h1>
      {children}
      <p>
        <Link to={location.pathname} reloadDocument>
          Reload this page
        </Link>{" "}
        or <Link to="/">go to the home page</Link>.
      </p>
    </section>
  );
}

function RequestReference({ requestId }: { requestId: string | null }) {
  if (!requestId) return null;
  return (
    <p>
      If you contact us, quote request <code>{requestId}</code>.
    </p>
  );
}

export const defaultStatusHandler: StatusHandler = ({ error, requestId }) => {
  const title = TITLES[error.status] ?? (error.status >= 500 ? "Something went wrong" : `Request failed (${error.status})`);
  const message =
    readableMessage(error) ??
    DEFAULT_MESSAGES[error.status] ??
    (error.status >= 500 ? "Sorry, we hit a problem on our side. Please try again in a moment." : "We couldn't complete that request.");
  return (
    <ErrorPage title={title}>
      <p>{message}</p>
      {error.status >= 500 ? <RequestReference requestId={requestId} /> : null}
    </ErrorPage>
  );
};

function useRequestId(): string | null {
  const root = useRouteLoaderData<{ requestId?: string | null }>("root");
  // The root data's request id names the document request; after a navigation in the browser it would name
  // an older one, so it is shown only on the page the server rendered.
  const firstDocument = useLocation().key === "default";
  return firstDocument ? (root?.requestId ?? null) : null;
}

/**
 * One error boundary for every route (the Epic Stack's pattern): a status may have its own handler, any other
 * status gets its title and the message the server sent, and an unexpected error a plain apology with the
 * request id to quote. The site layout stays around it, so the reader can carry on.
 */
export function GeneralErrorBoundary({
  statusHandlers = {},
  unexpectedErrorHandler,
}: {
  statusHandlers?: Partial<Record<number, StatusHandler>>;
  unexpectedErrorHandler?: (error: unknown) => ReactNode;
}) {
  const error = useRouteError();
  const params = useParams();
  const requestId = useRequestId();
  if (isRouteErrorResponse(error)) {
    const handler = statusHandlers[error.status] ?? defaultStatusHandler;
    return <>{handler({ error, params, requestId })}</>;
  }
  if (unexpectedErrorHandler) return <>{unexpectedErrorHandler(error)}</>;
  // In production the server replaces error details with a generic message, so nothing internal shows here.
  const detail = process.env.NODE_ENV !== "production" && error instanceof Error ? error.stack : undefined;
  return (
    <ErrorPage title="Something went wrong">
      <p>Sorry, we hit a problem on our side. Please try again in a moment; if it keeps happening, let us know.</p>
      <RequestReference requestId={requestId} />
      {detail ? <pre className="error-page__detail">{detail}</pre> : null}
    </ErrorPage>
  );
}

/** Headers a client needs to act on a refusal: which methods a 405 allows, when a 429 may be retried. */
const ACTIONABLE_HEADERS = ["Allow", "Retry-After"];

/**
 * A route's `headers` export that keeps those headers when its action refuses a request: Remix otherwise passes
 * on only the cookies of a response rendered by the error boundary, or returned with an error status.
 */
export const keepRefusalHeaders: HeadersFunction = ({ parentHeaders, actionHeaders, errorHeaders }) => {
  const headers = new Headers();
  parentHeaders.forEach((value, name) => {
    // Remix adds the parent's cookies itself.
    if (name.toLowerCase() !== "set-cookie") headers.set(name, value);
  });
  for (const source of [actionHeaders, errorHeaders]) {
    for (const name of ACTIONABLE_HEADERS) {
      const value = source?.get(name);
      if (value) headers.set(name, value);
    }
  }
  return headers;
};

/** A project's pages: a missing project (or another organization's) gets a page that says so and leads back. */
export function ProjectErrorBoundary() {
  return (
    <GeneralErrorBoundary
      statusHandlers={{
        404: () => (
          <ErrorPage title="Project not found">
            <p>
              There is no such project in this organization: it may have been deleted, or belong to another organization.{" "}
              <Link to="/projects">See your projects</Link>.
            </p>
          </ErrorPage>
        ),
      }}
    />
  );
}
