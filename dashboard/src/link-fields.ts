import type { Link } from "./api";

/**
 * Every link field the forms show, in order: one entry per field of the API's create and update bodies.
 * A field the API gains is one entry here (its kind says how it is edited and sent); the API's validation
 * errors come back under the same name and are shown beside it.
 */
export type FieldKind =
  | "url"
  | "text"
  | "slug"
  | "number"
  | "select"
  | "datetime"
  | "tags"
  | "json"
  | "secret"
  | "checkbox";

export type FieldSpec = {
  name: string;
  label: string;
  kind: FieldKind;
  help?: string;
  options?: Array<{ value: string; label: string }>;
  /** Shown when creating; and when editing (the update body accepts it). */
  create: boolean;
  edit: boolean;
  required?: boolean;
  /** Editing: an emptied field is sent as null (the API clears it) rather than left out. */
  clearable?: boolean;
};

export const LINK_FIELDS: FieldSpec[] = [
  { name: "url", label: "Target URL", kind: "url", create: true, edit: true, required: true },
  {
    name: "slug",
    label: "Slug",
    kind: "slug",
    help: "Letters, digits, _ and -; leave empty for a random one",
    create: true,
    edit: false,
  },
  {
    name: "statusCode",
    label: "Redirect status",
    kind: "select",
    options: [
      { value: "302", label: "302 Found (temporary)" },
      { value: "301", label: "301 Moved permanently" },
      { value: "307", label: "307 Temporary, keeps the method" },
      { value: "308", label: "308 Permanent, keeps the method" },
    ],
    create: true,
    edit: true,
  },
  {
    name: "expiresAt",
    label: "Expires at",
    kind: "datetime",
    help: "Your local time",
    create: true,
    edit: true,
    clearable: true,
  },
  {
    name: "maxClicks",
    label: "Click limit",
    kind: "number",
    help: "Empty: no limit",
    create: true,
    edit: true,
    clearable: true,
  },
  { name: "tags", label: "Tags", kind: "tags", help: "Separated by commas", create: true, edit: true },
  {
    name: "externalId",
    label: "External id",
    kind: "text",
    help: "Your own id for this link (optional)",
    create: true,
    edit: false,
  },
];

export type FormValues = Record<string, string | boolean>;

/** The form's starting values: empty, or a stored link's. */
export function initialValues(fields: FieldSpec[], link?: Link): FormValues {
  const values: FormValues = {};
  for (const f of fields) {
    const v = link?.[f.name];
    if (f.kind === "checkbox") values[f.name] = v === true;
    else if (v === null || v === undefined)
      values[f.name] = f.kind === "select" ? (f.options?.[0]?.value ?? "") : "";
    else if (f.kind === "tags") values[f.name] = (v as string[]).join(", ");
    else if (f.kind === "datetime") values[f.name] = toLocalInput(v as string);
    else if (f.kind === "json") values[f.name] = JSON.stringify(v, null, 2);
    else values[f.name] = String(v);
  }
  return values;
}

/**
 * The API body for `values`: empty fields left out (or null when editing a clearable one), each kind
 * converted to the type the API takes. A problem the browser can see (JSON that does not parse) is thrown
 * as field problems, in the API's own shape.
 */
export function toBody(
  fields: FieldSpec[],
  values: FormValues,
  mode: "create" | "edit",
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const problems: Array<{ path: string; message: string }> = [];
  for (const f of fields) {
    const raw = values[f.name];
    if (f.kind === "checkbox") {
      body[f.name] = raw === true;
      continue;
    }
    const text = typeof raw === "string" ? raw.trim() : "";
    if (text === "") {
      if (mode === "edit" && f.clearable) body[f.name] = null;
      else if (mode === "edit" && f.kind === "tags") body[f.name] = [];
      continue;
    }
    if (f.kind === "number" || f.name === "statusCode") body[f.name] = Number(text);
    else if (f.kind === "tags")
      body[f.name] = text
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean);
    else if (f.kind === "datetime") body[f.name] = new Date(text).toISOString();
    else if (f.kind === "json") {
      try {
        body[f.name] = JSON.parse(text);
      } catch {
        problems.push({ path: f.name, message: "is not valid JSON" });
      }
    } else body[f.name] = text;
  }
  if (problems.length > 0) throw Object.assign(new Error("some fields are not valid"), { problems });
  return body;
}

/** An ISO instant as a `datetime-local` input's value, in the browser's time zone. */
function toLocalInput(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
