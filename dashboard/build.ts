/**
 * Builds the dashboard and the API reference into `dist/assets/` (wrangler.toml's `[assets]` directory), the
 * files the worker serves under `/dashboard/` and `/docs/` in both runtimes. wrangler runs it before every
 * `dev` and `deploy` (`[build]` in wrangler.toml); `npm run build:dashboard` runs it alone.
 *
 * Script and style names carry a content hash, so the worker can let browsers cache them for a year. Every
 * file is written to a temporary name and renamed: builds that run at once (test files, the self-host
 * runner) never let a reader see half a file, and the same input gives the same names.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT = join(ROOT, "dist/assets");
/** The first load's JavaScript and CSS, gzipped, must stay under this (docs/decisions.md). */
export const FIRST_LOAD_BUDGET_BYTES = 150 * 1024;

function writeAtomically(path: string, contents: string | Uint8Array) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
}

export async function buildDashboard(): Promise<{ firstLoadGzipBytes: number }> {
  const result = await build({
    entryPoints: [join(ROOT, "dashboard/src/main.tsx")],
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2022",
    jsx: "automatic",
    jsxImportSource: "preact",
    entryNames: "[name]-[hash]",
    outdir: join(OUT, "dashboard"),
    write: false,
    legalComments: "none",
    logLevel: "warning",
  });
  const files = Object.fromEntries(result.outputFiles.map((f) => [basename(f.path), f.contents]));
  const script = Object.keys(files).find((name) => name.endsWith(".js"));
  const style = Object.keys(files).find((name) => name.endsWith(".css"));
  if (!script || !style) throw new Error("the dashboard build made no script or no style");
  for (const [name, contents] of Object.entries(files))
    writeAtomically(join(OUT, "dashboard", name), contents);
  const html = readFileSync(join(ROOT, "dashboard/index.html"), "utf8")
    .replace("{{script}}", `/dashboard/${script}`)
    .replace("{{style}}", `/dashboard/${style}`);
  writeAtomically(join(OUT, "dashboard/index.html"), html);

  // The API reference: Swagger UI's own files, served by the worker (no CDN), started by a file of ours.
  const swagger = join(ROOT, "node_modules/swagger-ui-dist");
  for (const name of ["swagger-ui-bundle.js", "swagger-ui.css"]) {
    writeAtomically(join(OUT, "docs", name), readFileSync(join(swagger, name)));
  }
  for (const name of ["index.html", "start.js"]) {
    writeAtomically(join(OUT, "docs", name), readFileSync(join(ROOT, "dashboard/docs", name)));
  }

  const firstLoadGzipBytes = [script, style].reduce(
    (sum, name) => sum + gzipSync(files[name] as Uint8Array, { level: 9 }).length,
    0,
  );
  if (firstLoadGzipBytes > FIRST_LOAD_BUDGET_BYTES) {
    throw new Error(
      `the dashboard's first load is ${firstLoadGzipBytes} bytes gzipped, over its budget of ${FIRST_LOAD_BUDGET_BYTES}`,
    );
  }
  return { firstLoadGzipBytes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { firstLoadGzipBytes } = await buildDashboard();
  console.log(
    `dashboard built into dist/assets (first load ${(firstLoadGzipBytes / 1024).toFixed(1)} KB gzipped)`,
  );
}
