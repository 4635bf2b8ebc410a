import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import {
  Form,
  isRouteErrorResponse,
  Link,
  Links,
  Meta,
  Outlet,
  Scripts,
  ScrollRestoration,
  useLoaderData,
  useRouteError,
  useRouteLoaderData,
} from "@remix-run/react";
import type { ReactNode } from "react";
import { clerkRootLoader } from "./auth/clerk.server";
import { ClerkApp } from "./auth/clerk-ui";
import { getViewer } from "./auth/context.server";
import { clerkEnabled } from "./lib/config.server";
import { useNonce } from "./lib/nonce";
import stylesUrl from "./styles/app.css";

export const links: LinksFunction = () => [
  { rel: "stylesheet", href: stylesUrl },
  { rel: "icon", href: "/favicon.svg", type: "image/svg+xml" },
];

export const meta: MetaFunction = () => [
  { title: "Many Futures" },
  { name: "description", content: "Strategic-foresight briefs on the topics you care about, delivered to your inbox." },
];

export async function loader(args: LoaderFunctionArgs) {
  const viewer = await getViewer(args.request, args.context);
  const data = {
    authProvider: clerkEnabled() ? ("clerk" as const) : ("builtin" as const),
    viewer: viewer
      ? {
          name: viewer.name || viewer.email || "You",
          organizationName: viewer.organization?.organizationName ?? null,
          canSwitch: viewer.provider === "builtin",
        }
      : null,
  };
  return data.authProvider === "clerk" ? clerkRootLoader(args, data) : data;
}

type RootData = Awaited<ReturnType<typeof loader>> & {
  authProvider: "builtin" | "clerk";
  viewer: { name: string; organizationName: string | null; canSwitch: boolean } | null;
};

function SiteNav() {
  // Absent when the root loader itself failed: the error page then shows a plain header.
  const data = useRouteLoaderData<RootData>("root");
  if (!data) return null;
  const { viewer } = data;
  if (!viewer) {
    return (
      <nav className="site-nav" aria-label="Account">
        <Link to="/signin">Sign in</Link>
        <Link to="/signup" className="button">
          Create an account
        </Link>
      </nav>
    );
  }
  return (
    <nav className="site-nav" aria-label="Main">
      {viewer.organizationName ? <Link to="/projects">Projects</Link> : null}
      {viewer.organizationName ? <Link to="/organization">{viewer.organizationName}</Link> : null}
      {viewer.canSwitch ? <Link to="/organizations">Switch organization</Link> : null}
      <Form method="post" action="/signout">
        <button type="submit" className="link-button">
          Sign out
        </button>
      </Form>
    </nav>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const nonce = useNonce();
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <header className="site-header">
          <div className="container site-header__inner">
            <Link to="/" className="brand">
              <span className="brand__mark" aria-hidden="true">
                ◐
              </span>
              Many Futures
            </Link>
            <SiteNav />
          </div>
        </header>
        <main id="main" className="container">
          {children}
        </main>
        <footer className="site-footer">
          <div className="container">Many Futures: foresight briefs, researched by Futura.</div>
        </footer>
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  );
}

function App() {
  return <Outlet />;
}

const ClerkRoot = ClerkApp(App);

export default function Root() {
  const { authProvider } = useLoaderData<RootData>();
  return authProvider === "clerk" ? <ClerkRoot /> : <App />;
}

export function ErrorBoundary() {
  const error = useRouteError();
  if (isRouteErrorResponse(error) && error.status === 404) {
    return (
      <section className="error-page" aria-labelledby="error-title">
        <h1 id="error-title">Page not found</h1>
        <p>We couldn't find the page you asked for. It may have moved, or the link may be mistyped.</p>
        <p>
          <Link to="/">Go to the home page</Link>
        </p>
      </section>
    );
  }
  const status = isRouteErrorResponse(error) ? error.status : 500;
  // In production the server replaces error details with a generic message, so nothing internal shows here.
  const detail = process.env.NODE_ENV !== "production" && error instanceof Error ? error.stack : undefined;
  return (
    <section className="error-page" aria-labelledby="error-title">
      <h1 id="error-title">{status >= 500 ? "Something went wrong" : `Request failed (${status})`}</h1>
      <p>
        {status >= 500
          ? "Sorry, we hit a problem on our side. Please try again in a moment; if it keeps happening, let us know."
          : "We couldn't complete that request."}
      </p>
      {detail ? <pre className="error-page__detail">{detail}</pre> : null}
      <p>
        <Link to="/">Go to the home page</Link>
      </p>
    </section>
  );
}
