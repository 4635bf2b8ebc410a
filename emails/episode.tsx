import { Link, Section, Text } from "@react-email/components";
import { markdownToSafeHtml } from "../app/lib/markdown-html.server";
import { colors, FooterText, formatDate, Layout, Paragraph, Title } from "./components/layout";

export interface EpisodeEmailSource {
  title: string;
  url: string;
  publisher?: string | null;
}

export interface EpisodeEmailProps {
  projectName: string;
  title: string;
  summary: string | null;
  publishedAt: string;
  readingMinutes: number;
  /** The episode's content as HTML from the shared sanitiser (markdownToSafeHtml, target "email"). */
  contentHtml: string;
  sources: EpisodeEmailSource[];
  webUrl: string;
  /** Five links, for ratings 1 to 5 in order. */
  feedbackUrls: string[];
  unsubscribeUrl: string;
  /** Why this reader gets the email: "You subscribed to … with ada@example.com." */
  reason: string;
}

const RATING_LABELS = ["1 – Not useful", "2", "3", "4", "5 – Very useful"];

function httpUrl(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}

export default function EpisodeEmail(props: EpisodeEmailProps) {
  const minutes = `${props.readingMinutes} min read`;
  return (
    <Layout
      preview={props.summary ?? `${props.title} · ${minutes}`}
      footer={
        <>
          <FooterText>{props.reason}</FooterText>
          <FooterText>
            <Link href={props.unsubscribeUrl} style={{ color: colors.link }}>
              Unsubscribe from {props.projectName}
            </Link>{" "}
            — one click, no sign-in.
          </FooterText>
        </>
      }
    >
      <Text className="mf-muted" style={{ fontSize: "14px", margin: "0 0 4px", color: colors.muted }}>
        {props.projectName}
      </Text>
      <Title>{props.title}</Title>
      <Text className="mf-muted" style={{ fontSize: "14px", margin: "0 0 24px", color: colors.muted }}>
        {formatDate(props.publishedAt)} · {minutes} ·{" "}
        <Link href={props.webUrl} style={{ color: colors.link }}>
          Read on the web
        </Link>
      </Text>
      <Section>
        <div dangerouslySetInnerHTML={{ __html: props.contentHtml }} />
      </Section>
      {props.sources.length ? (
        <Section>
          <h2 style={{ fontSize: "20px", lineHeight: "1.3", margin: "28px 0 10px", color: colors.text }}>Sources</h2>
          <ul style={{ fontSize: "15px", lineHeight: "1.6", margin: "0 0 16px", paddingLeft: "24px" }}>
            {props.sources.map((source, index) => {
              const href = httpUrl(source.url);
              const label = source.title || source.url;
              return (
                <li key={`${source.url}-${index}`} style={{ margin: "0 0 6px" }}>
                  {href ? (
                    <Link href={href} style={{ color: colors.link }}>
                      {label}
                    </Link>
                  ) : (
                    label
                  )}
                  {source.publisher ? `, ${source.publisher}` : ""}
                </li>
              );
            })}
          </ul>
        </Section>
      ) : null}
      <Section style={{ margin: "24px 0 0" }}>
        <h2 style={{ fontSize: "18px", lineHeight: "1.3", margin: "0 0 8px", color: colors.text }}>How useful was this episode?</h2>
        <Paragraph>
          {props.feedbackUrls.map((url, index) => (
            <span key={url}>
              <Link href={url} style={{ color: colors.link, fontWeight: 600 }}>
                {RATING_LABELS[index]}
              </Link>
              {index < props.feedbackUrls.length - 1 ? "  ·  " : ""}
            </span>
          ))}
        </Paragraph>
      </Section>
    </Layout>
  );
}

const sampleMarkdown = `## What changed this week

Three of the five signals we track moved. The clearest: **grid-scale storage** tenders in the UK doubled against the same month last year.

- National Grid opened a second round of its long-duration storage auction.
- Two councils published heat-network plans that assume cheap overnight power.
- A battery maker announced a sodium-ion line in the North East.

> "Storage has stopped being the hard part; connection queues are." — an analyst we spoke to

### What it means for you

If your scenario assumed storage stays scarce until 2030, revisit it. See the [connection reform consultation](https://www.example.org/connections) for dates.

1. Check which of your assumptions depend on evening peak prices.
2. Note the councils' timelines next to your own.
`;

EpisodeEmail.PreviewProps = {
  projectName: "Energy futures for Leeds",
  title: "Storage is no longer the bottleneck",
  summary: "Storage tenders doubled; connection queues are the new constraint.",
  publishedAt: "2026-12-04T07:00:00.000Z",
  readingMinutes: 4,
  contentHtml: markdownToSafeHtml(sampleMarkdown, { target: "email", sectionLevel: 1 }),
  sources: [
    { title: "Long-duration storage auction, round two", url: "https://www.example.org/ldes", publisher: "National Grid ESO" },
    { title: "Leeds heat network plan", url: "https://www.example.org/leeds-heat", publisher: "Leeds City Council" },
  ],
  webUrl: "http://localhost:3000/episodes/3f1c2a9e-0000-4000-8000-000000000001",
  feedbackUrls: [1, 2, 3, 4, 5].map((rating) => `http://localhost:3000/feedback/sample-${rating}`),
  unsubscribeUrl: "http://localhost:3000/unsubscribe/sample",
  reason: "You get this because ada@example.com subscribed to Energy futures for Leeds on Many Futures.",
} satisfies EpisodeEmailProps;
