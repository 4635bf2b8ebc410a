/**
 * The POST forms of a server-rendered page, read the way a browser without JavaScript submits them: each
 * form's target and the fields it would send as they stand (hidden inputs, text as filled in, ticked boxes,
 * chosen options). React renders attributes in double quotes and escapes text, so a few patterns suffice.
 */
export interface PageForm {
  /** The form's target as written in the page, such as `/projects/…?index`. */
  action: string;
  fields: [string, string][];
  /** Names of text boxes a person types into (text, email, password, time, textarea), in page order. */
  typedFields: string[];
  /** Names that appear more than once (a group of checkboxes): a list by design. */
  repeatedFields: string[];
  /** Input types by name, for filling typed fields with something plausible. */
  types: Record<string, string>;
}

function decode(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return match ? decode(match[1]) : undefined;
}

const hasAttribute = (tag: string, name: string) => new RegExp(`\\s${name}(=|\\s|/|>)`).test(tag);

export function readPostForms(html: string): PageForm[] {
  const forms: PageForm[] = [];
  for (const [, open, inner] of html.matchAll(/(<form\b[^>]*>)([\s\S]*?)<\/form>/g)) {
    if ((attribute(open, "method") ?? "get").toLowerCase() !== "post") continue;
    const fields: [string, string][] = [];
    const typedFields: string[] = [];
    const types: Record<string, string> = {};
    const controls = /<input\b[^>]*>|<textarea\b([^>]*)>([\s\S]*?)<\/textarea>|<select\b([^>]*)>([\s\S]*?)<\/select>/g;
    for (const match of inner.matchAll(controls)) {
      const [tag] = match;
      if (tag.startsWith("<input")) {
        const name = attribute(tag, "name");
        if (!name || hasAttribute(tag, "disabled")) continue;
        const type = (attribute(tag, "type") ?? "text").toLowerCase();
        if (type === "submit" || type === "button" || type === "file") continue;
        if ((type === "checkbox" || type === "radio") && !hasAttribute(tag, "checked")) {
          types[name] ??= type;
          continue;
        }
        types[name] ??= type;
        fields.push([name, attribute(tag, "value") ?? (type === "checkbox" || type === "radio" ? "on" : "")]);
        if (["text", "email", "password", "time", "search", "url", "tel"].includes(type)) typedFields.push(name);
      } else if (tag.startsWith("<textarea")) {
        const name = attribute(` ${match[1]}`, "name");
        if (!name) continue;
        types[name] = "textarea";
        // A newline right after <textarea> is not part of its value.
        fields.push([name, decode(match[2].replace(/^\n/, ""))]);
        typedFields.push(name);
      } else {
        const name = attribute(` ${match[3]}`, "name");
        if (!name) continue;
        types[name] = "select";
        const options = [...match[4].matchAll(/<option\b([^>]*)>/g)].map(([, attrs]) => attrs);
        const chosen = options.find((attrs) => hasAttribute(` ${attrs}`, "selected")) ?? options[0];
        if (chosen !== undefined) fields.push([name, attribute(` ${chosen}`, "value") ?? ""]);
      }
    }
    const names = [...inner.matchAll(/\sname="([^"]*)"/g)].map(([, name]) => decode(name));
    const repeatedFields = [...new Set(names.filter((name, index) => names.indexOf(name) !== index))];
    forms.push({ action: attribute(open, "action") ?? "", fields, typedFields, repeatedFields, types });
  }
  return forms;
}
