import { ActionLink, FooterText, formatDate, Layout, Paragraph, Title } from "./components/layout";

export interface SubscriptionConfirmationEmailProps {
  projectName: string;
  confirmUrl: string;
  expiresAt: string;
}

export default function SubscriptionConfirmationEmail(props: SubscriptionConfirmationEmailProps) {
  return (
    <Layout
      preview={`Confirm that you want ${props.projectName} by email`}
      footer={<FooterText>Someone entered this address to subscribe. If it was not you, ignore this email: nothing will be sent.</FooterText>}
    >
      <Title>Confirm your subscription</Title>
      <Paragraph>Please confirm that you want to receive {props.projectName} by email. Nothing is sent until you do.</Paragraph>
      <ActionLink href={props.confirmUrl}>Confirm subscription</ActionLink>
      <Paragraph>This link works until {formatDate(props.expiresAt)}.</Paragraph>
    </Layout>
  );
}

SubscriptionConfirmationEmail.PreviewProps = {
  projectName: "Energy futures for Leeds",
  confirmUrl: "http://localhost:3000/subscriptions/confirm/sample",
  expiresAt: "2026-12-11T07:00:00.000Z",
} satisfies SubscriptionConfirmationEmailProps;
