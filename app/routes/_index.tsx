import type { MetaFunction } from "@remix-run/node";
import { GeneralErrorBoundary, keepRefusalHeaders } from "~/components/error-boundary";
import { onlyGet } from "~/lib/http.server";

export const meta: MetaFunction = () => [
  { title: "Many Futures: foresight briefs in your inbox" },
  { name: "description", content: "Strategic-foresight briefs on the topics you care about, delivered to your inbox." },
];

const steps = [
  {
    title: "Tell Futura what to watch",
    body: "A short conversation captures your question, the decision it informs, your horizon and the signals you trust.",
  },
  {
    title: "Choose your rhythm",
    body: "Weekly on Monday by default, or the days and hour that suit you, in your own time zone.",
  },
  {
    title: "Read each episode in your inbox",
    body: "Research, writing and review agents prepare every brief; the web keeps every episode too.",
  },
];

// Nothing here takes a form.
export const action = onlyGet;
export const headers = keepRefusalHeaders;

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

export default function Index() {
  return (
    <>
      <section className="hero" aria-labelledby="hero-title">
        <h1 id="hero-title">See the futures that matter to your decisions</h1>
        <p className="hero__lead">
          Many Futures sends strategic-foresight briefs about the topics you care about, on your schedule, to your inbox
          and your team's.
        </p>
      </section>
      <section aria-labelledby="how-title">
        <h2 id="how-title">How it works</h2>
        <ol className="steps">
          {steps.map((step) => (
            <li key={step.title} className="card">
              <h3>{step.title}</h3>
              <p>{step.body}</p>
            </li>
          ))}
        </ol>
      </section>
    </>
  );
}
