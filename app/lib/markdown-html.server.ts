import { Marked } from "marked";
import sanitizeHtml from "sanitize-html";

/**
 * Episode markdown comes from a language model, so it is untrusted. This is the one place it becomes HTML, for
 * the web page and for email alike: marked turns it into HTML, then sanitize-html keeps only plain text formatting
 * (headings, paragraphs, lists, quotes, code, tables, links) and drops everything else — script, style, iframes,
 * forms, every image (remote images are tracking pixels in email), event handlers, classes and inline styles, and
 * any link that is not http, https or mailto.
 */

export interface MarkdownHtmlOptions {
  /** The level of the heading the text sits under: its highest heading becomes one deeper, and so on, up to h6. */
  sectionLevel?: number;
  /** "email" adds inline styles, since mail clients ignore stylesheets; "web" leaves styling to the page's CSS. */
  target?: "web" | "email";
}

function escapeText(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  renderer: {
    // An image is never loaded (in email a remote image is a tracking pixel): its description stays as text.
    image: ({ text }) => (text.trim() ? `[Image: ${escapeText(text.trim())}]` : ""),
  },
});

const ALLOWED_TAGS = [
  "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "ul", "ol", "li", "blockquote", "strong", "em", "b", "i",
  "del", "s", "code", "pre", "a", "table", "thead", "tbody", "tr", "th", "td", "sup", "sub", "span",
];

/** Tags dropped together with everything inside them, not just their markup. */
const DROPPED_WITH_CONTENT = ["script", "style", "iframe", "object", "embed", "noscript", "textarea", "select", "option", "template", "svg", "math", "head", "title"];

const EMAIL_STYLES: Record<string, string> = {
  h1: "font-size:26px;line-height:1.3;margin:28px 0 12px;font-weight:700",
  h2: "font-size:22px;line-height:1.3;margin:26px 0 10px;font-weight:700",
  h3: "font-size:19px;line-height:1.35;margin:22px 0 8px;font-weight:700",
  h4: "font-size:17px;line-height:1.4;margin:20px 0 8px;font-weight:700",
  h5: "font-size:16px;line-height:1.4;margin:18px 0 6px;font-weight:700",
  h6: "font-size:15px;line-height:1.4;margin:16px 0 6px;font-weight:700",
  p: "font-size:16px;line-height:1.6;margin:0 0 16px",
  ul: "font-size:16px;line-height:1.6;margin:0 0 16px;padding-left:24px",
  ol: "font-size:16px;line-height:1.6;margin:0 0 16px;padding-left:24px",
  li: "margin:0 0 6px",
  blockquote: "margin:0 0 16px;padding:4px 0 4px 16px;border-left:4px solid #8a94a6;font-style:italic",
  a: "color:#1d5fd1;text-decoration:underline",
  code: "font-family:Menlo,Consolas,monospace;font-size:14px",
  pre: "font-family:Menlo,Consolas,monospace;font-size:14px;white-space:pre-wrap;margin:0 0 16px;padding:12px;border:1px solid #c9ced6",
  hr: "border:none;border-top:1px solid #c9ced6;margin:24px 0",
  table: "border-collapse:collapse;margin:0 0 16px;font-size:15px",
  th: "border:1px solid #c9ced6;padding:6px 8px;text-align:left",
  td: "border:1px solid #c9ced6;padding:6px 8px",
};

function safeHref(href: string | undefined): string | undefined {
  if (!href) return undefined;
  try {
    const url = new URL(href);
    return url.protocol === "https:" || url.protocol === "http:" || url.protocol === "mailto:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** The heading levels the HTML uses, lowest first, so they can be renumbered without gaps. */
function headingLevels(html: string): number[] {
  return [...new Set([...html.matchAll(/<h([1-6])[\s>]/gi)].map((match) => Number(match[1])))].sort((a, b) => a - b);
}

export function markdownToSafeHtml(markdown: string, options: MarkdownHtmlOptions = {}): string {
  const sectionLevel = options.sectionLevel ?? 1;
  const email = options.target === "email";
  const raw = marked.parse(markdown) as string;
  const levels = headingLevels(raw);

  return sanitizeHtml(raw, {
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: { a: ["href", "rel"], ol: ["start"], "*": email ? ["style"] : [] },
    allowedSchemes: ["http", "https", "mailto"],
    allowedSchemesAppliedToAttributes: ["href"],
    allowProtocolRelative: false,
    nonTextTags: DROPPED_WITH_CONTENT,
    disallowedTagsMode: "discard",
    transformTags: {
      // Every kept tag gets its attributes rebuilt here, so nothing the model wrote (class, style, on*) survives.
      "*": (tagName, attribs) => {
        let name = tagName;
        const heading = /^h([1-6])$/.exec(tagName);
        if (heading) name = `h${Math.min(6, sectionLevel + 1 + levels.indexOf(Number(heading[1])))}`;
        const kept: Record<string, string> = {};
        if (name === "a") {
          const href = safeHref(attribs.href);
          // A link that lost its target (javascript:, data:) stays as its text.
          if (!href) return { tagName: "span", attribs: {} };
          kept.href = href;
          kept.rel = "nofollow noopener noreferrer";
        }
        if (name === "ol" && attribs.start && /^\d{1,6}$/.test(attribs.start)) kept.start = attribs.start;
        const style = email ? EMAIL_STYLES[name] : undefined;
        if (style) kept.style = style;
        return { tagName: name, attribs: kept };
      },
    },
  });
}
