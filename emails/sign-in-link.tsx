import { ActionLink, FooterText, Layout, Paragraph, Title } from "./components/layout";

export interface SignInLinkEmailProps {
  name: string;
  signInUrl: string;
  expiresAt: string;
}

function timeOf(iso: string): string {
  return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: "UTC", timeZoneName: "short" }).format(new Date(iso));
}

export default function SignInLinkEmail(props: SignInLinkEmailProps) {
  return (
    <Layout
      preview="You already have a Many Futures account"
      footer={<FooterText>If you did not try to sign up, ignore this email: nothing changes.</FooterText>}
    >
      <Title>You already have an account</Title>
      <Paragraph>
        Hello {props.name || "there"}, someone tried to sign up with this address, which already has a Many Futures account. Sign in instead:
      </Paragraph>
      <ActionLink href={props.signInUrl}>Sign in</ActionLink>
      <Paragraph>The link works once, until {timeOf(props.expiresAt)}. Forgot your password? Use “Forgot password” on the sign-in page.</Paragraph>
    </Layout>
  );
}

SignInLinkEmail.PreviewProps = {
  name: "Ada",
  signInUrl: "http://localhost:3000/signin/link/sample",
  expiresAt: "2026-12-04T07:15:00.000Z",
} satisfies SignInLinkEmailProps;
