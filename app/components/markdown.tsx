import ReactMarkdown from "react-markdown";

/**
 * Renders user-written markdown as React elements. Raw HTML in the source is not rendered and unsafe link
 * schemes are dropped (react-markdown's defaults), so a brief cannot inject script.
 */
export function Markdown({ children }: { children: string }) {
  return (
    <div className="prose">
      <ReactMarkdown>{children}</ReactMarkdown>
    </div>
  );
}
