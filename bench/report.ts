import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";

const DOC = fileURLToPath(new URL("../docs/benchmarks.md", import.meta.url));
const HEADER = `# Benchmarks

Written by \`npm run bench\`, \`npm run bench:aggregator\` and \`npm run bench:ab\`. Absolute numbers depend on the machine and what
else it runs; the ratios against a baseline measured in the same run are what to compare.
`;

/** Replaces (or appends) the section between `<!-- name -->` markers in docs/benchmarks.md. */
export function writeSection(name: string, markdown: string): void {
  const text = existsSync(DOC) ? readFileSync(DOC, "utf8") : HEADER;
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const pattern = new RegExp(`${start}[\\s\\S]*?${end}`);
  writeFileSync(DOC, pattern.test(text) ? text.replace(pattern, block) : `${text.trimEnd()}\n\n${block}\n`);
}

/** A markdown table from a header row and data rows. */
export function table(head: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

export const machine = (): string => {
  return `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}`;
};
