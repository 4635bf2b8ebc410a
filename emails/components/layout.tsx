import { Body, Container, Head, Hr, Html, Link, Preview, Section, Text } from "@react-email/components";
import type { ReactNode } from "react";

/**
 * The frame every email shares: 600 px wide, system fonts, no images, light colours by default and dark ones when
 * the reader's client asks for them (clients that ignore the media query invert the light ones, which stay legible).
 */

export const colors = {
  text: "#1f2933",
  muted: "#52606d",
  link: "#1d5fd1",
  border: "#c9ced6",
  background: "#ffffff",
  page: "#f3f4f6",
  button: "#1d5fd1",
  buttonText: "#ffffff",
};

const darkModeCss = `
:root { color-scheme: light dark; supported-color-schemes: light dark; }
@media (prefers-color-scheme: dark) {
  .mf-page { background-color: #111418 !important; }
  .mf-card { background-color: #1b1f24 !important; border-color: #3a424c !important; }
  .mf-card, .mf-card p, .mf-card li, .mf-card h1, .mf-card h2, .mf-card h3, .mf-card h4, .mf-card h5, .mf-card h6,
  .mf-card td, .mf-card th, .mf-card blockquote { color: #e8eaed !important; }
  .mf-muted { color: #aab2bd !important; }
  .mf-card a { color: #8ab4f8 !important; }
  .mf-button { background-color: #8ab4f8 !important; color: #111418 !important; }
}
`;

export interface LayoutProps {
  /** The line inbox lists show after the subject. */
  preview: string;
  children: ReactNode;
  /** Why the reader gets this email, and how to stop it, shown at the foot. */
  footer?: ReactNode;
}

export function Layout({ preview, children, footer }: LayoutProps) {
  return (
    <Html lang="en" dir="ltr">
      <Head>
        <meta name="color-scheme" content="light dark" />
        <meta name="supported-color-schemes" content="light dark" />
        <style>{darkModeCss}</style>
      </Head>
      <Preview>{preview}</Preview>
      <Body
        className="mf-page"
        style={{
          backgroundColor: colors.page,
          margin: 0,
          padding: "24px 0",
          fontFamily: "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
          color: colors.text,
        }}
      >
        <Container
          className="mf-card"
          style={{
            width: "100%",
            maxWidth: "600px",
            backgroundColor: colors.background,
            border: `1px solid ${colors.border}`,
            borderRadius: "8px",
            padding: "32px",
          }}
        >
          <Text className="mf-muted" style={{ margin: "0 0 24px", fontSize: "14px", fontWeight: 700, letterSpacing: "0.04em", color: colors.muted }}>
            MANY FUTURES
          </Text>
          {children}
          {footer ? (
            <Section>
              <Hr style={{ borderColor: colors.border, margin: "32px 0 16px" }} />
              {footer}
            </Section>
          ) : null}
        </Container>
      </Body>
    </Html>
  );
}

export function Paragraph({ children }: { children: ReactNode }) {
  return <Text style={{ fontSize: "16px", lineHeight: "1.6", margin: "0 0 16px", color: colors.text }}>{children}</Text>;
}

export function FooterText({ children }: { children: ReactNode }) {
  return (
    <Text className="mf-muted" style={{ fontSize: "13px", lineHeight: "1.5", margin: "0 0 8px", color: colors.muted }}>
      {children}
    </Text>
  );
}

/** A call to action as a link styled as a button, with the address written out below for clients that strip styles. */
export function ActionLink({ href, children }: { href: string; children: ReactNode }) {
  return (
    <Section style={{ margin: "8px 0 24px" }}>
      <Link
        href={href}
        className="mf-button"
        style={{
          display: "inline-block",
          backgroundColor: colors.button,
          color: colors.buttonText,
          padding: "12px 20px",
          borderRadius: "6px",
          fontSize: "16px",
          fontWeight: 600,
          textDecoration: "none",
        }}
      >
        {children}
      </Link>
      <Text className="mf-muted" style={{ fontSize: "13px", lineHeight: "1.5", margin: "12px 0 0", color: colors.muted, wordBreak: "break-all" }}>
        Or open this address: <Link href={href} style={{ color: colors.link }}>{href}</Link>
      </Text>
    </Section>
  );
}

export function Title({ children }: { children: ReactNode }) {
  return <h1 style={{ fontSize: "26px", lineHeight: "1.3", margin: "0 0 12px", fontWeight: 700, color: colors.text }}>{children}</h1>;
}

/** "4 December 2026" in the reader-neutral UK style the app uses. */
export function formatDate(iso: string): string {
  return new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" }).format(new Date(iso));
}

/** Integer micro-GBP as £12.34. */
export function formatGbp(micros: number): string {
  return `£${(micros / 1_000_000).toFixed(2)}`;
}
