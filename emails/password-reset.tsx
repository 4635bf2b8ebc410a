import { ActionLink, FooterText, Layout, Paragraph, Title } from "./components/layout";

export interface PasswordResetEmailProps {
  name: string;
  resetUrl: string;
  expiresAt: string;
}

function timeOf(iso: string): string {
  return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: "UTC", timeZoneName: "short" }).format(new Date(iso));
}

export default function PasswordResetEmail(props: PasswordResetEmailProps) {
  return (
    <Layout
      preview="Reset your Many Futures password"
      footer={<FooterText>If you did not ask to reset your password, ignore this email: your password stays as it is.</FooterText>}
    >
      <Title>Reset your password</Title>
      <Paragraph>Hello {props.name || "there"}, someone asked to reset the password of your Many Futures account.</Paragraph>
      <ActionLink href={props.resetUrl}>Choose a new password</ActionLink>
      <Paragraph>
        The link works once, until {timeOf(props.expiresAt)}. Resetting signs you out everywhere.
      </Paragraph>
    </Layout>
  );
}

PasswordResetEmail.PreviewProps = {
  name: "Ada",
  resetUrl: "http://localhost:3000/reset-password/sample",
  expiresAt: "2026-12-04T08:00:00.000Z",
} satisfies PasswordResetEmailProps;
