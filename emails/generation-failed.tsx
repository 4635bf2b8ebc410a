import { ActionLink, FooterText, formatDate, Layout, Paragraph, Title } from "./components/layout";

export interface GenerationFailedEmailProps {
  projectName: string;
  episodeTitle: string | null;
  scheduledFor: string;
  reason: string;
  retryUrl: string;
}

export default function GenerationFailedEmail(props: GenerationFailedEmailProps) {
  const episode = props.episodeTitle ? `“${props.episodeTitle}”` : `the episode due ${formatDate(props.scheduledFor)}`;
  return (
    <Layout
      preview={`An episode of ${props.projectName} could not be written`}
      footer={<FooterText>You get this because you own the organization that runs {props.projectName}.</FooterText>}
    >
      <Title>An episode could not be written</Title>
      <Paragraph>
        Many Futures tried every attempt it had at {episode} of {props.projectName} and could not finish it.
      </Paragraph>
      <Paragraph>What went wrong: {props.reason}</Paragraph>
      <ActionLink href={props.retryUrl}>Open the episode to try again</ActionLink>
    </Layout>
  );
}

GenerationFailedEmail.PreviewProps = {
  projectName: "Energy futures for Leeds",
  episodeTitle: null,
  scheduledFor: "2026-12-04T07:00:00.000Z",
  reason: "The language model did not answer within 2 minutes, three times.",
  retryUrl: "http://localhost:3000/episodes/3f1c2a9e-0000-4000-8000-000000000001",
} satisfies GenerationFailedEmailProps;
