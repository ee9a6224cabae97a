/**
 * `npm run bench:aggregator`: events/s of the consumer's write path (validate, enrich,
 * dedupe, insert events and upsert rollups in one statement) next to a plain multi-row
 * INSERT of the same rows, against the same real Postgres, in the same run.
 */
import pg from "pg";
import { handleClickBatch } from "../aggregator/src/handle-batch";
import { reduceBatch } from "../aggregator/src/reduce";
import { EVENT_COLUMNS } from "../aggregator/src/writer";
import { migrateDatabase } from "../scripts/migrate";
import { startPostgres } from "../selfhost/services/postgres";
import { clickEvent } from "../test/fixtures";
import { machine, median, table, writeSection } from "./report";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const BATCH = 100;
const ROUNDS = 3;
const AGENTS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
];

function events(n: number) {
  const start = Date.now() - 6 * 3_600_000;
  return Array.from({ length: n }, (_, i) =>
    clickEvent({
      linkId: 1 + (i % 50),
      ts: start + i * 1000,
      // 600 distinct user agents, a realistic spread for the classifier's cache.
      userAgent: `${AGENTS[i % AGENTS.length]} build/${i % 200}`,
      country: ["DE", "US", "FR", "JP"][i % 4] as string,
      referrer: i % 3 ? "https://news.example.org/" : null,
    }),
  );
}

/** The baseline: the same rows (already enriched), inserted with one multi-row INSERT per batch. */
async function plainInsert(pool: pg.Pool, rows: ReturnType<typeof reduceBatch>["rows"]) {
  const cols = EVENT_COLUMNS.length;
  const placeholders = rows.map(
    (_, r) => `(${Array.from({ length: cols }, (_, c) => `$${r * cols + c + 1}`).join(",")})`,
  );
  const values = rows.flatMap((r) => EVENT_COLUMNS.map((c) => c.value(r)));
  await pool.query(
    `insert into click_events_plain (${EVENT_COLUMNS.map((c) => c.name).join(", ")}) values ${placeholders.join(",")}`,
    values,
  );
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

// Fsync off, as the figures in docs/benchmarks.md were taken: the bench compares write paths, not disks.
const postgres = await startPostgres({ durability: "off-for-tests" });
try {
  await migrateDatabase(postgres.url);
  const pool = new pg.Pool({ connectionString: postgres.url, max: 1 });
  await pool.query("create table click_events_plain (like click_events including all)");
  const baseline: number[] = [];
  const consumer: number[] = [];
  process.stdout.write(`aggregator bench: ${EVENTS} events in batches of ${BATCH}, ${ROUNDS} rounds\n`);
  process.stdout.write(
    "Postgres durability is OFF for this bench (fsync, synchronous_commit, full_page_writes)\n",
  );
  for (let round = 1; round <= ROUNDS; round++) {
    const batch = events(EVENTS);
    const messages = batch.map((body, i) => ({
      id: String(i),
      body,
      attempts: 1,
      timestamp: new Date(),
      ack() {},
      retry() {},
    }));
    const rows = reduceBatch(messages).rows;
    baseline.push(
      EVENTS /
        (await timed(async () => {
          for (let i = 0; i < rows.length; i += BATCH) await plainInsert(pool, rows.slice(i, i + BATCH));
        })),
    );
    consumer.push(
      EVENTS /
        (await timed(async () => {
          for (let i = 0; i < messages.length; i += BATCH) {
            await handleClickBatch({ messages: messages.slice(i, i + BATCH) }, () => ({
              db: pool,
              close: async () => {},
            }));
          }
        })),
    );
    process.stdout.write(
      `  round ${round}: plain ${Math.round(baseline.at(-1) as number)}/s, consumer ${Math.round(consumer.at(-1) as number)}/s\n`,
    );
  }
  const b = median(baseline);
  const c = median(consumer);
  const rows = [
    ["plain multi-row INSERT (baseline)", Math.round(b), "1.00"],
    ["consumer: validate + enrich + insert events + upsert rollups", Math.round(c), (c / b).toFixed(2)],
  ];
  console.log(`\n${table(["write path", "events/s (median)", "ratio"], rows)}\n`);
  writeSection(
    "aggregator",
    `## Aggregator ingest (${new Date().toISOString().slice(0, 10)})

${EVENTS} events per round in batches of ${BATCH}, ${ROUNDS} rounds, medians; one connection to a local
PostgreSQL 15 (fsync off) over TCP; ${machine()}. The baseline inserts the same rows, already enriched, with a
plain multi-row INSERT and no rollups; the consumer's path also validates each message with the shared schema,
classifies user agents (600 distinct strings; parsed ones are cached), drops duplicates and upserts the hourly
rollups in the same statement.

${table(["write path", "events/s (median)", "ratio"], rows)}`,
  );
  await pool.end();
} finally {
  await postgres.dispose();
}
