import { describe, expect, it } from "vitest";
import { csvCell, csvLine, csvStream } from "./csv";

describe("csvCell", () => {
  it.each([
    ["plain", "plain"],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["two\nlines", '"two\nlines"'],
    ["=HYPERLINK(\"http://evil\")", `"'=HYPERLINK(""http://evil"")"`],
    ["+1+1", "'+1+1"],
    ["-2+3", "'-2+3"],
    ["@SUM(A1)", "'@SUM(A1)"],
    ["\tcmd", "'\tcmd"],
    ["\rcmd", `"'\rcmd"`],
    ["a=b", "a=b"],
  ])("%j → %s", (input, expected) => {
    expect(csvCell(input)).toBe(expected);
  });

  it("keeps numbers, dates, lists and empties as data", () => {
    expect(csvCell(-3)).toBe("-3");
    expect(csvCell(new Date("2026-12-02T10:00:00Z"))).toBe("2026-12-02T10:00:00.000Z");
    expect(csvCell(["PR.AA-05", "PR.AA-01"])).toBe("PR.AA-05; PR.AA-01");
    expect(csvCell(["=1", "b"])).toBe("'=1; b");
    expect(csvCell(null)).toBe("");
    expect(csvCell(undefined)).toBe("");
  });

  it("ends lines with CRLF", () => {
    expect(csvLine(["a", 1])).toBe("a,1\r\n");
  });
});

describe("csvStream", () => {
  it("streams 100k rows while pulling them one at a time", async () => {
    let produced = 0;
    let maxAhead = 0;
    let consumed = 0;
    async function* rows() {
      for (let i = 0; i < 100_000; i++) {
        produced++;
        maxAhead = Math.max(maxAhead, produced - consumed);
        yield { id: i, name: i % 1000 === 0 ? "=cmd" : `row ${i}` };
      }
    }
    const reader = csvStream([{ header: "id", value: (r: { id: number }) => r.id }, { header: "name", value: (r: { name: string }) => r.name }], rows()).getReader();
    const decoder = new TextDecoder();
    let text = "";
    let lines = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      consumed = produced;
      const chunk = decoder.decode(value);
      lines += chunk.split("\r\n").length - 1;
      if (text.length < 200) text += chunk;
    }
    expect(lines).toBe(100_001);
    expect(text.startsWith("id,name\r\n0,'=cmd\r\n1,row 1\r\n")).toBe(true);
    // Pull-based: the producer never runs more than a row ahead of the reader.
    expect(maxAhead).toBeLessThanOrEqual(1);
  });
});
