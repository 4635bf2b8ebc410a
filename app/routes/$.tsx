import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";

// Any path no other route matches, whatever the method: a real 404 rendered inside the site layout. (Paths
// under /api/ have their own catch-all, which answers JSON.)
function notFound(): never {
  throw new Response("Not Found", { status: 404 });
}

export const loader = notFound;
export const action = notFound;

export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

export default function NotFound() {
  return null;
}
