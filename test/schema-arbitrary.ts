import fc from "fast-check";

/** The parts of JSON Schema (as /openapi.json writes it) the generator understands. */
export type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  example?: unknown;
  format?: string;
};

type Doc = { components?: { schemas?: Record<string, JsonSchema> } };

/**
 * Values for a schema from the OpenAPI document: mostly well-formed (so the fuzz
 * reaches the handlers, not only validation), with a share of arbitrary JSON in any
 * field and unknown extra keys, so validation is exercised too.
 */
export function arbitraryFor(schema: JsonSchema, doc: Doc, depth = 0): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 5, arbitrary: wellFormed(schema, doc, depth) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  );
}

function wellFormed(schema: JsonSchema, doc: Doc, depth: number): fc.Arbitrary<unknown> {
  if (schema.$ref) {
    const name = schema.$ref.split("/").pop() as string;
    return wellFormed(doc.components?.schemas?.[name] ?? {}, doc, depth);
  }
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return fc.oneof(...variants.map((v) => wellFormed(v, doc, depth)));
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if ("const" in schema) return fc.constant(schema.const);
  const types = Array.isArray(schema.type) ? schema.type : [schema.type ?? "string"];
  return fc.oneof(...types.map((t) => forType(t, schema, doc, depth)));
}

function forType(type: string, s: JsonSchema, doc: Doc, depth: number): fc.Arbitrary<unknown> {
  switch (type) {
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "integer":
      return fc.integer({ min: s.minimum ?? -1_000_000, max: s.maximum ?? 1_000_000 });
    case "number":
      return fc.oneof(
        fc.integer({ min: s.minimum ?? -1000, max: s.maximum ?? 1000 }),
        fc.double({ noNaN: true }),
      );
    case "array":
      return fc.array(arbitraryFor(s.items ?? {}, doc, depth + 1), {
        minLength: s.minItems ?? 0,
        maxLength: Math.min(s.maxItems ?? 4, 4),
      });
    case "object": {
      const required = new Set(s.required ?? []);
      // Each optional key is there half the time, on its own: a body with many optional fields (a
      // link's rules, preview, UTM, …) is then still well-formed often enough to reach the handler.
      const props = Object.fromEntries(
        Object.entries(s.properties ?? {}).map(([k, v]) => {
          const value = depth > 2 ? fc.constant(null) : arbitraryFor(v, doc, depth + 1);
          return [k, required.has(k) ? value : fc.option(value, { freq: 2, nil: undefined })];
        }),
      );
      const record = fc
        .record(props)
        .map((r) => Object.fromEntries(Object.entries(r).filter(([, value]) => value !== undefined)));
      return fc.oneof(
        { weight: 6, arbitrary: record },
        {
          weight: 1,
          arbitrary: fc
            .tuple(record, fc.string({ minLength: 1, maxLength: 8 }))
            .map(([r, k]) => ({ ...r, [`x${k}`]: 1 })),
        },
      );
    }
    default:
      return forString(s);
  }
}

/** Characters the API must refuse in every string: controls (C0, DEL, C1) and lone surrogates. */
export const HOSTILE_CHARACTERS = [
  "\u0000",
  "\t",
  "\n",
  "\r",
  "\u001b",
  "\u007f",
  "\u0085",
  "\ud800",
  "\udfff",
];

/** True when `value` holds a character of the kind HOSTILE_CHARACTERS samples (checked by code point). */
export const hasHostileCharacter = (value: string): boolean =>
  [...value].some((ch) => {
    const c = ch.codePointAt(0) as number;
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xdfff);
  });

/** `base` with one of `characters` put in at a random place. */
export const withHostileCharacter = (base: fc.Arbitrary<string>, characters = HOSTILE_CHARACTERS) =>
  fc.tuple(base, fc.constantFrom(...characters), fc.nat()).map(([value, ch, at]) => {
    const i = at % (value.length + 1);
    return value.slice(0, i) + ch + value.slice(i);
  });

/** One string in ten of every kind gets a hostile character at a random place. */
function forString(s: JsonSchema): fc.Arbitrary<string> {
  const base = wellFormedString(s);
  return fc.oneof({ weight: 9, arbitrary: base }, { weight: 1, arbitrary: withHostileCharacter(base) });
}

function wellFormedString(s: JsonSchema): fc.Arbitrary<string> {
  if (s.format === "date-time") {
    return fc
      .date({ min: new Date("2000-01-01"), max: new Date("2040-01-01"), noInvalidDate: true })
      .map((d) => d.toISOString());
  }
  if (s.format === "uri")
    return fc.oneof(fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.string());
  if (s.pattern) return fc.stringMatching(new RegExp(s.pattern));
  // Some values are valid only where the deployment has them (a configured short domain): the documented
  // example, which the fuzz test configures, one time in four.
  const random = fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 40, 40) });
  if (typeof s.example === "string")
    return fc.oneof({ weight: 3, arbitrary: random }, fc.constant(s.example));
  return random;
}
