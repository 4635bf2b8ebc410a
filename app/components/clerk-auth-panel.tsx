import { SignIn, SignUp } from "~/auth/clerk-ui";

/** Clerk's hosted form, with a word for visitors without JavaScript, whom it cannot serve. */
export function ClerkAuthPanel({ mode, redirectTo }: { mode: "sign-in" | "sign-up"; redirectTo: string }) {
  const title = mode === "sign-in" ? "Sign in" : "Create an account";
  return (
    <section className="narrow stack" aria-labelledby="clerk-title">
      <h1 id="clerk-title">{title}</h1>
      <noscript>
        <p className="notice notice--error">
          Accounts are handled by Clerk, whose {mode === "sign-in" ? "sign-in" : "sign-up"} form needs JavaScript. Turn
          JavaScript on to continue; every page after signing in works without it.
        </p>
      </noscript>
      {mode === "sign-in" ? (
        <SignIn routing="hash" signUpUrl="/signup" forceRedirectUrl={redirectTo} />
      ) : (
        <SignUp routing="hash" signInUrl="/signin" forceRedirectUrl={redirectTo} />
      )}
    </section>
  );
}
