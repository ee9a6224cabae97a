import { Counter, Gauge, Histogram, Registry } from "@shared/metrics/registry";
import type { ReconcileReport } from "./reconcile";

/** What one batch came to; logged, and counted here (defined here so the handler depends on the metrics, not both ways). */
export type BatchOutcome = {
  received: number;
  inserted: number;
  /** Valid events already stored (a redelivery) or repeated within the batch. */
  duplicates: number;
  malformed: number;
  /** True when the batch failed to write and its valid messages were handed back for retry. */
  retried: boolean;
};

/** The aggregator's metrics (per isolate; one aggregator process in self-host). */
export const registry = new Registry();

const batches = registry.register(new Counter("aggregator_batches_total", "Batches handled.", ["outcome"]));
const events = registry.register(new Counter("aggregator_events_total", "Events by outcome.", ["result"]));
export const writeDuration = registry.register(
  new Histogram(
    "aggregator_db_write_duration_seconds",
    "One batch's write.",
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  ),
);
export const backlog = registry.register(
  new Gauge("aggregator_queue_backlog", "Messages waiting (self-host broker).", ["queue"]),
);
export const lag = registry.register(
  new Gauge("aggregator_queue_lag_seconds", "Age of the oldest unacknowledged message."),
);
const drift = registry.register(
  new Gauge(
    "aggregator_reconcile_drift",
    "Sum of |Postgres - Redis| over active links at the last reconciliation.",
  ),
);
const repaired = registry.register(
  new Counter("aggregator_reconcile_repaired_total", "Redis counters raised to the Postgres total."),
);
export const counterFailure = registry
  .register(
    new Counter("aggregator_redis_update_failures_total", "Batches whose Redis counter update failed."),
  )
  .labels();
registry
  .register(new Gauge("aggregator_build_info", "Build information; always 1.", ["version"]))
  .set(1, "0.1.0");

const handles = {
  ok: batches.labels("ok"),
  retried: batches.labels("retried"),
  inserted: events.labels("inserted"),
  duplicate: events.labels("duplicate"),
  malformed: events.labels("malformed"),
};

export function recordBatch(outcome: BatchOutcome): void {
  (outcome.retried ? handles.retried : handles.ok).inc();
  handles.inserted.inc(outcome.inserted);
  handles.duplicate.inc(outcome.duplicates);
  handles.malformed.inc(outcome.malformed);
}

export function recordReconcile(report: ReconcileReport): void {
  drift.set(report.drift);
  repaired.inc(report.repaired);
}
