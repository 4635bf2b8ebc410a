import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { requireViewer } from "~/auth/context.server";
import { onlyGet } from "~/lib/http.server";

export const meta: MetaFunction = () => [{ title: "Choose an organization · Many Futures" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const viewer = await requireViewer(request, context);
  if (viewer.organization) throw redirect("/organization");
  return { provider: viewer.provider };
}

// Nothing here takes a form.
export const action = onlyGet;
export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

export default function NoOrganizationPage() {
  const { provider } = useLoaderData<typeof loader>();
  return (
    <section className="narrow stack" aria-labelledby="no-org-title">
      <h1 id="no-org-title">Choose an organization to continue</h1>
      <p>Projects and episodes belong to an organization, and you are signed in without one active.</p>
      {provider === "clerk" ? (
        <ul>
          <li>To create one, use “Create organization” in your account menu (it is provided by Clerk).</li>
          <li>If you were invited, accept the invitation from its email, then pick the organization in the switcher.</li>
          <li>Already a member? Choose it in the organization switcher; this page then takes you there.</li>
        </ul>
      ) : (
        <p>
          <Link to="/organizations">Create an organization or accept an invitation</Link> to carry on.
        </p>
      )}
    </section>
  );
}
