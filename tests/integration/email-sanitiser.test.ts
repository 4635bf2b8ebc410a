import { describe, expect, it } from "vitest";
import { renderEmail } from "../../app/email/templates.server";
import { markdownToSafeHtml } from "../../app/lib/markdown-html.server";

/** The one sanitiser the episode page and the episode email share. */

const hostile = [
  "# Heading",
  "",
  "Text <script>alert('x')</script> more <style>body{display:none}</style> end.",
  "",
  '<iframe src="https://evil.example/frame">inside</iframe>',
  "",
  "[click](javascript:alert(1)) and [data](data:text/html;base64,PHNjcmlwdD4=) and [vb](vbscript:msgbox)",
  "",
  "![pixel](https://tracker.example/p.gif?u=1) <img src=https://tracker.example/q.gif width=1 height=1>",
  "",
  '<a href="https://ok.example/" onclick="steal()" style="color:red" class="x">ok link</a>',
  "",
  '<p onmouseover="x()">hover</p><form action="https://evil.example"><input name=a></form>',
  "",
  "<object data=x></object><embed src=x><svg><script>1</script></svg>",
].join("\n");

describe("markdown → safe HTML", () => {
  for (const target of ["web", "email"] as const) {
    it(`drops script, style, iframes, forms, handlers, images and unsafe links (${target})`, () => {
      const html = markdownToSafeHtml(hostile, { target });
      expect(html).not.toMatch(/<script|<style|<iframe|<object|<embed|<svg|<form|<input|<img/i);
      expect(html).not.toMatch(/alert|display:none|inside|javascript:|data:text|vbscript:|tracker\.example/i);
      expect(html).not.toMatch(/onclick|onmouseover|class=/i);
      expect(html).toContain('<a href="https://ok.example/" rel="nofollow noopener noreferrer"');
      expect(html).toContain("[Image: pixel]");
      expect(html).toContain("click");
      if (target === "web") expect(html).not.toContain("style=");
      else expect(html).not.toContain("color:red");
    });
  }

  it("keeps headings, lists, links and quotes, and fits headings under the page's own", () => {
    const html = markdownToSafeHtml("# Top\n\n## Sub\n\n- a\n- b\n\n1. one\n\n> quoted\n\n[site](https://example.org) and **bold** and `code`", { sectionLevel: 1 });
    expect(html).toContain("<h2>Top</h2>");
    expect(html).toContain("<h3>Sub</h3>");
    expect(html).toMatch(/<ul>\s*<li>a<\/li>/);
    expect(html).toMatch(/<ol>\s*<li>one<\/li>/);
    expect(html).toMatch(/<blockquote>\s*<p>quoted<\/p>/);
    expect(html).toContain('<a href="https://example.org/" rel="nofollow noopener noreferrer">site</a>');
    expect(html).toContain("<strong>bold</strong>");
    expect(html).toContain("<code>code</code>");
  });

  it("the rendered episode email carries none of it either", async () => {
    const { templates } = await import("../../app/email/templates.server");
    const email = await renderEmail("episode", { ...templates.episode.sample, contentHtml: markdownToSafeHtml(hostile, { target: "email" }) });
    expect(email.html).not.toMatch(/<script|<iframe|<img|javascript:|tracker\.example/i);
    expect(email.text).not.toMatch(/alert|tracker\.example/);
    expect(email.text).toContain("ok link");
  });
});
