/** What a batch column holds: text, numbers, booleans, nulls. */
export type ArrayElement = string | number | boolean | null;

const quoted = (v: ArrayElement): string =>
  v === null ? "NULL" : typeof v === "string" ? `"${v.replace(/[\\"]/g, "\\$&")}"` : String(v);

/**
 * A Postgres array literal of `values` (`{"a","b\"c",NULL,1,true}`), for a parameter cast to
 * `type[]`. The driver's own serialization checks every element for a Buffer, a typed array, a
 * Date and a nested array before quoting it (13% of the aggregator's CPU, docs/benchmarks.md).
 * JSON.stringify writes a whole column natively, and when it escaped nothing its list is already a
 * literal's: quoted strings, bare numbers, booleans and nulls. A column with a quote, a backslash
 * or a control character is written element by element instead.
 *
 * @example arrayLiteral(["a", null, 'b"c']) // {"a",null,"b\"c"}
 */
export function arrayLiteral(values: readonly ArrayElement[]): string {
  const json = JSON.stringify(values);
  if (!json.includes("\\")) return `{${json.slice(1, -1)}}`;
  return `{${values.map(quoted).join(",")}}`;
}
