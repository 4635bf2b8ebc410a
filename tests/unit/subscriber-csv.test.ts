import { describe, expect, it } from "vitest";
import { MAX_IMPORT_ROWS, parseSubscriberCsv } from "../../app/lib/subscriber-csv.server";

describe("parseSubscriberCsv", () => {
  it("reads the email and name columns by their headers, in any order, with quoting, a BOM and CRLF", () => {
    const parsed = parseSubscriberCsv('\ufeffName,Team,E-mail\r\n"Lovelace, Ada",R&D,"ADA@Example.com"\r\n"Q ""the"" Person",,q@example.org\r\n');
    expect(parsed).toEqual({
      ok: true,
      rows: [
        { line: 2, email: "ada@example.com", name: "Lovelace, Ada" },
        { line: 3, email: "q@example.org", name: 'Q "the" Person' },
      ],
      invalid: [],
    });
  });

  it("without a header takes the first column as the address and the second as the name", () => {
    expect(parseSubscriberCsv("a@example.com,Ann\nb@example.com\n")).toEqual({
      ok: true,
      rows: [
        { line: 1, email: "a@example.com", name: "Ann" },
        { line: 2, email: "b@example.com", name: "" },
      ],
      invalid: [],
    });
  });

  it("reports each unusable row with its line, counting lines inside quoted values", () => {
    const parsed = parseSubscriberCsv('email,name\nnot-an-email,X\n,Empty\n"a@example.com","two\nlines"\nA@example.com,Again\n');
    expect(parsed.ok && parsed.invalid).toEqual([
      { line: 2, value: "not-an-email", reason: "Enter an email address like name@example.com." },
      { line: 3, value: "", reason: "No email address in this row." },
      { line: 6, value: "A@example.com", reason: "The same address as line 4." },
    ]);
    expect(parsed.ok && parsed.rows).toEqual([{ line: 4, email: "a@example.com", name: "two\nlines" }]);
  });

  it("refuses broken CSV, an empty file and too many rows as a whole", () => {
    expect(parseSubscriberCsv('a@example.com\n"unclosed,b@example.com\n')).toMatchObject({ ok: false, error: expect.stringMatching(/^The file is not valid CSV/) });
    expect(parseSubscriberCsv("\n\n")).toEqual({ ok: false, error: "The file has no addresses in it." });
    const many = Array.from({ length: MAX_IMPORT_ROWS + 1 }, (_, i) => `p${i}@example.com`).join("\n");
    expect(parseSubscriberCsv(many)).toMatchObject({ ok: false, error: expect.stringContaining(`at most ${MAX_IMPORT_ROWS}`) });
  });
});
