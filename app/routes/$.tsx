// Any path no other route matches: a real 404 rendered inside the site layout by the root error boundary.
export function loader() {
  throw new Response("Not Found", { status: 404 });
}

export default function NotFound() {
  return null;
}
