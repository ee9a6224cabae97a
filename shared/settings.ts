/**
 * Reading helpers both workers' config modules share: one rule for numbers, one for missing secrets.
 */

/**
 * `raw` as a whole number of at least `min`, else `fallback`. Unset or blank is the default; so is anything
 * that is not a whole number as a whole ("5s", "1.5"): a typo falls back to the documented default rather
 * than to a number guessed from its first digits.
 */
export function wholeNumberOr(raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  return Number.isInteger(n) && n >= min ? n : fallback;
}

/** The names among `names` whose value is unset or empty, in the order given. */
export function missingNames<K extends string>(env: Partial<Record<K, string>>, names: readonly K[]): K[] {
  return names.filter((name) => !env[name]);
}

/** One error for every required setting a worker lacks, naming them all. */
export class MissingSettingsError extends Error {
  constructor(
    readonly worker: string,
    readonly missing: readonly string[],
  ) {
    super(`${worker}: missing required settings: ${missing.join(", ")} (see .dev.vars.example)`);
    this.name = "MissingSettingsError";
  }
}
