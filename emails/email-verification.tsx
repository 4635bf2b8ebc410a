import { ActionLink, FooterText, formatDate, Layout, Paragraph, Title } from "./components/layout";

export interface EmailVerificationEmailProps {
  name: string;
  verifyUrl: string;
  expiresAt: string;
}

export default function EmailVerificationEmail(props: EmailVerificationEmailProps) {
  return (
    <Layout
      preview="Confirm your email address for Many Futures"
      footer={<FooterText>If you did not create a Many Futures account, ignore this email.</FooterText>}
    >
      <Title>Confirm your email address</Title>
      <Paragraph>Hello {props.name || "there"}, please confirm this address so you can accept invitations and add subscribers.</Paragraph>
      <ActionLink href={props.verifyUrl}>Confirm my address</ActionLink>
      <Paragraph>The link works until {formatDate(props.expiresAt)}.</Paragraph>
    </Layout>
  );
}

EmailVerificationEmail.PreviewProps = {
  name: "Ada",
  verifyUrl: "http://localhost:3000/verify-email/sample",
  expiresAt: "2026-12-05T07:00:00.000Z",
} satisfies EmailVerificationEmailProps;
