/** An Atom 1.0 document (RFC 4287), built as text with every value escaped. */

export interface AtomEntry {
  id: string;
  title: string;
  url: string;
  published: Date;
  updated: Date;
  summary: string | null;
  /** Already-rendered, safe HTML; it is escaped once more as the element's text, as `type="html"` requires. */
  contentHtml: string;
}

export interface AtomFeed {
  id: string;
  title: string;
  selfUrl: string;
  alternateUrl: string;
  authorName: string;
  updated: Date;
  entries: AtomEntry[];
}

// Characters XML 1.0 cannot carry at all, escaped or not: most C0 controls, lone surrogates, U+FFFE and U+FFFF.
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function escapeXml(text: string): string {
  return text
    .replace(NOT_XML, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

function element(name: string, text: string, attributes = ""): string {
  return `<${name}${attributes}>${escapeXml(text)}</${name}>`;
}

export function atomFeedXml(feed: AtomFeed): string {
  const entries = feed.entries.map((entry) =>
    [
      "  <entry>",
      `    ${element("id", entry.id)}`,
      `    ${element("title", entry.title, ' type="text"')}`,
      `    <link rel="alternate" type="text/html" href="${escapeXml(entry.url)}"/>`,
      `    ${element("published", entry.published.toISOString())}`,
      `    ${element("updated", entry.updated.toISOString())}`,
      entry.summary ? `    ${element("summary", entry.summary, ' type="text"')}` : null,
      `    ${element("content", entry.contentHtml, ' type="html"')}`,
      "  </entry>",
    ]
      .filter((line) => line !== null)
      .join("\n"),
  );
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    `  ${element("id", feed.id)}`,
    `  ${element("title", feed.title, ' type="text"')}`,
    `  ${element("updated", feed.updated.toISOString())}`,
    `  <link rel="self" type="application/atom+xml" href="${escapeXml(feed.selfUrl)}"/>`,
    `  <link rel="alternate" type="text/html" href="${escapeXml(feed.alternateUrl)}"/>`,
    `  <author>${element("name", feed.authorName)}</author>`,
    ...entries,
    "</feed>",
    "",
  ].join("\n");
}
