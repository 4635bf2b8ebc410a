import ReactMarkdown from "react-markdown";

interface HtmlNode {
  type: string;
  tagName?: string;
  children?: HtmlNode[];
}

const HEADING = /^h([1-6])$/;

function headings(node: HtmlNode, found: HtmlNode[] = []): HtmlNode[] {
  if (node.type === "element" && node.tagName && HEADING.test(node.tagName)) found.push(node);
  for (const child of node.children ?? []) headings(child, found);
  return found;
}

/**
 * A rehype plugin that fits the text's headings under the page's own: the text's highest heading level becomes
 * `sectionLevel + 1` and each deeper level one more (up to h6), so `# Title` in a brief shown under an h2
 * becomes an h3, and the page's outline has no jumps.
 */
function nestHeadingsUnder(sectionLevel: number) {
  return () => (tree: HtmlNode) => {
    const found = headings(tree);
    const levels = [...new Set(found.map((node) => Number(HEADING.exec(node.tagName!)![1])))].sort((a, b) => a - b);
    for (const node of found) {
      const rank = levels.indexOf(Number(HEADING.exec(node.tagName!)![1]));
      node.tagName = `h${Math.min(6, sectionLevel + 1 + rank)}`;
    }
  };
}

/**
 * Renders user-written markdown as React elements. Raw HTML in the source is not rendered and unsafe link
 * schemes are dropped (react-markdown's defaults), so a brief cannot inject script. `sectionLevel` is the level
 * of the heading the text sits under.
 */
export function Markdown({ children, sectionLevel = 2 }: { children: string; sectionLevel?: number }) {
  return (
    <div className="prose">
      <ReactMarkdown rehypePlugins={[nestHeadingsUnder(sectionLevel)]}>{children}</ReactMarkdown>
    </div>
  );
}
