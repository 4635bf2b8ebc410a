import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import {
  Form,
  Link,
  Links,
  Meta,
  Outlet,
  Scripts,
  ScrollRestoration,
  useLoaderData,
  useLocation,
  useRouteLoaderData,
} from "@remix-run/react";
import { useState, type ReactNode } from "react";
import { clerkRootLoader } from "./auth/clerk.server";
import { ClerkApp } from "./auth/clerk-ui";
import { getViewer } from "./auth/context.server";
import { GeneralErrorBoundary, keepRefusalHeaders } from "./components/error-boundary";
import { clerkEnabled } from "./lib/config.server";
import { takeFlash, type Flash } from "./lib/flash.server";
import { jsonResponse, onlyGet } from "./lib/http.server";
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
  const [viewer, { flash, setCookie }] = await Promise.all([getViewer(args.request, args.context), takeFlash(args.request)]);
  const data = {
    authProvider: clerkEnabled() ? ("clerk" as const) : ("builtin" as const),
    viewer: viewer
      ? {
          name: viewer.name || viewer.email || "You",
          organizationName: viewer.organization?.organizationName ?? null,
          canSwitch: viewer.provider === "builtin",
        }
      : null,
    flash,
    requestId: args.context.requestId ?? null,
  };
  // The flash is shown once: this response removes its cookie.
  const headers = new Headers(setCookie ? { "Set-Cookie": setCookie } : {});
  if (data.authProvider === "clerk") {
    // Clerk's loader answers with a Response that carries its own state beside ours.
    const response = (await clerkRootLoader(args, data)) as unknown as Response;
    if (setCookie) response.headers.append("Set-Cookie", setCookie);
    return response;
  }
  return setCookie ? jsonResponse(data, { headers }) : data;
}

// A form posted to "/" (without `?index`) reaches the root route, which takes none.
export const action = onlyGet;
export const headers = keepRefusalHeaders;

interface RootData {
  authProvider: "builtin" | "clerk";
  viewer: { name: string; organizationName: string | null; canSwitch: boolean } | null;
  flash: Flash | null;
  requestId: string | null;
}

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
      {viewer.organizationName ? <Link to="/usage">Usage</Link> : null}
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

/**
 * The confirmation a successful form submission carried across its redirect. The live region is always there,
 * so a message that appears after a navigation in the browser is read out; a message belongs to the page it
 * was delivered with, and is gone after the next navigation.
 */
function FlashNotice() {
  const flash = useRouteLoaderData<RootData>("root")?.flash ?? null;
  const locationKey = useLocation().key;
  const [delivered, setDelivered] = useState({ flash, locationKey });
  if (delivered.flash !== flash) setDelivered({ flash, locationKey });
  const shown = flash && delivered.flash === flash && delivered.locationKey === locationKey ? flash : null;
  return (
    <div role="status" className={shown ? "notice notice--success flash" : "flash flash--empty"}>
      {shown ? (
        <>
          <p>{shown.message}</p>
          {shown.inviteLink ? (
            <p className="copy-box" data-testid="invite-link">
              {shown.inviteLink}
            </p>
          ) : null}
        </>
      ) : null}
    </div>
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
          <FlashNotice />
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
  return <GeneralErrorBoundary />;
}
