/**
 * The name of the unique constraint a Postgres error violated, or null. Drizzle wraps
 * driver errors, so the cause chain is walked.
 */
export function uniqueViolation(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const pgErr = e as { code?: string; constraint?: string; cause?: unknown };
    if (pgErr.code === "23505") return pgErr.constraint ?? "";
    e = pgErr.cause;
  }
  return null;
}
