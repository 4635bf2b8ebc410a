import { ActionLink, FooterText, formatDate, formatGbp, Layout, Paragraph, Title } from "./components/layout";

export interface BudgetAlertEmailProps {
  organizationName: string;
  level: "warning" | "reached";
  spentGbpMicros: number;
  limitGbpMicros: number;
  day: string;
  settingsUrl: string;
}

export default function BudgetAlertEmail(props: BudgetAlertEmailProps) {
  const spent = formatGbp(props.spentGbpMicros);
  const limit = formatGbp(props.limitGbpMicros);
  const reached = props.level === "reached";
  return (
    <Layout
      preview={reached ? `${props.organizationName} reached its daily limit of ${limit}` : `${props.organizationName} has spent ${spent} of ${limit} today`}
      footer={<FooterText>You get this because you own {props.organizationName} on Many Futures.</FooterText>}
    >
      <Title>{reached ? "Daily spending limit reached" : "Close to the daily spending limit"}</Title>
      <Paragraph>
        {props.organizationName} has spent {spent} of its {limit} daily limit on {formatDate(props.day)}.
      </Paragraph>
      <Paragraph>
        {reached
          ? "New episodes wait until tomorrow, or until you raise the limit."
          : "Episodes keep being written; once the limit is reached, new ones wait until the next day."}
      </Paragraph>
      <ActionLink href={props.settingsUrl}>Review the limit</ActionLink>
    </Layout>
  );
}

BudgetAlertEmail.PreviewProps = {
  organizationName: "Leeds Climate Office",
  level: "warning",
  spentGbpMicros: 41_250_000,
  limitGbpMicros: 50_000_000,
  day: "2026-12-04T00:00:00.000Z",
  settingsUrl: "http://localhost:3000/organization",
} satisfies BudgetAlertEmailProps;
