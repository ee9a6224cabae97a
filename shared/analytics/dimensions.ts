import type { ClickEvent } from "../events";
import { type AgentClass, CLICK_DIMENSIONS, type ClickDimension } from "./click-dimensions";

export type { AgentClass } from "./click-dimensions";

type Dimensions = typeof CLICK_DIMENSIONS;

/** A dimension's name in code: a click row's field and a drizzle column's key. */
export type DimensionField = keyof Dimensions;

/** The dimensions an event may lack (null in click_events). */
export type NullableField = {
  [K in DimensionField]: Dimensions[K] extends { nullable: true } ? K : never;
}[DimensionField];

/** The stats API's key for a dimension's breakdown. */
export type BreakdownKey = Dimensions[DimensionField]["breakdown"];

/** The dimension fields of a click row, typed as each entry derives them. */
export type DimensionValues = { [K in DimensionField]: ReturnType<Dimensions[K]["derive"]> };

/** A dimension's definition with its field name. */
export type Dimension = ClickDimension & { field: DimensionField; breakdown: BreakdownKey };

/** The dimensions in column order, for code that goes through all of them. */
export const DIMENSIONS: readonly Dimension[] = Object.entries(CLICK_DIMENSIONS).map(
  ([field, dimension]) => ({ field: field as DimensionField, ...dimension }),
);

/** Every dimension of one click, each from its own entry's `derive`. */
export function deriveDimensions(event: ClickEvent, agent: AgentClass): DimensionValues {
  const values: Partial<Record<DimensionField, string | null>> = {};
  for (const d of DIMENSIONS) values[d.field] = d.derive(event, agent);
  // Complete: the loop set every field.
  return values as DimensionValues;
}
