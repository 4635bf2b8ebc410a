import { ActionLink, FooterText, formatDate, Layout, Paragraph, Title } from "./components/layout";

export interface InvitationEmailProps {
  organizationName: string;
  inviterName: string;
  role: "owner" | "admin" | "member";
  acceptUrl: string;
  expiresAt: string;
}

const ROLE_NAMES = { owner: "an owner", admin: "an admin", member: "a member" } as const;

export default function InvitationEmail(props: InvitationEmailProps) {
  return (
    <Layout
      preview={`${props.inviterName} invited you to ${props.organizationName}`}
      footer={<FooterText>If you did not expect this invitation, ignore this email: nothing changes unless you accept.</FooterText>}
    >
      <Title>Join {props.organizationName}</Title>
      <Paragraph>
        {props.inviterName} invited you to join {props.organizationName} on Many Futures as {ROLE_NAMES[props.role]}.
      </Paragraph>
      <ActionLink href={props.acceptUrl}>Accept the invitation</ActionLink>
      <Paragraph>The invitation expires on {formatDate(props.expiresAt)}.</Paragraph>
    </Layout>
  );
}

InvitationEmail.PreviewProps = {
  organizationName: "Leeds Climate Office",
  inviterName: "Ada Lovelace",
  role: "member",
  acceptUrl: "http://localhost:3000/invitations/sample",
  expiresAt: "2026-12-18T07:00:00.000Z",
} satisfies InvitationEmailProps;
