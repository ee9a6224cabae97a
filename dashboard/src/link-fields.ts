import type { Link } from "./api";

/**
 * Every link field the forms show, in order: one entry per field of the API's create and update bodies.
 * A field the API gains is one entry here (its kind says how it is edited and sent); a dotted name
 * (`preview.title`) is one key of an object field. The API's validation errors come back under the same
 * names and are shown beside the field whose name starts their path.
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
  /** The help shown when editing, if it differs. */
  editHelp?: string;
  options?: Array<{ value: string; label: string }>;
  /** A select's value as the API takes it (strings otherwise). */
  parse?: "number" | "boolean";
  /** Shown when creating; and when editing (the update body accepts it). */
  create: boolean;
  edit: boolean;
  required?: boolean;
  /**
   * Editing, what an emptied field sends: null (the API clears it), [] (an empty list), or nothing (left as it
   * is; the default). For a dotted name, the whole object is sent as null once all its keys are empty.
   */
  whenEmptied?: "null" | "empty-list";
  /** Starts a group of fields under this heading. */
  section?: string;
};

const STATUS_OPTIONS = [
  { value: "302", label: "302 Found (temporary)" },
  { value: "301", label: "301 Moved permanently" },
  { value: "307", label: "307 Temporary, keeps the method" },
  { value: "308", label: "308 Permanent, keeps the method" },
];

export const LINK_FIELDS: FieldSpec[] = [
  { name: "url", label: "Target URL", kind: "url", create: true, edit: true, required: true },
  {
    name: "domain",
    label: "Short domain",
    kind: "text",
    help: "Leave empty for the default domain",
    create: true,
    edit: false,
  },
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
    options: STATUS_OPTIONS,
    parse: "number",
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
    whenEmptied: "null",
  },
  {
    name: "maxClicks",
    label: "Click limit",
    kind: "number",
    help: "Empty: no limit",
    create: true,
    edit: true,
    whenEmptied: "null",
  },
  {
    name: "tags",
    label: "Tags",
    kind: "tags",
    help: "Separated by commas",
    create: true,
    edit: true,
    whenEmptied: "empty-list",
  },
  {
    name: "externalId",
    label: "External id",
    kind: "text",
    help: "Your own id for this link (optional)",
    create: true,
    edit: false,
  },
  {
    section: "Access and forwarding",
    name: "password",
    label: "Password",
    kind: "secret",
    help: "Visitors must type it before they are redirected",
    editHelp: "Leave empty to keep the current one",
    create: true,
    edit: true,
  },
  {
    name: "forwardQuery",
    label: "Forward the query string",
    kind: "select",
    options: [
      { value: "", label: "As the service is set up" },
      { value: "true", label: "Yes: the short URL's query goes to the target" },
      { value: "false", label: "No" },
    ],
    parse: "boolean",
    create: true,
    edit: true,
    whenEmptied: "null",
  },
  {
    section: "UTM parameters (added to the target)",
    name: "utm.source",
    label: "utm_source",
    kind: "text",
    create: true,
    edit: true,
    whenEmptied: "null",
  },
  { name: "utm.medium", label: "utm_medium", kind: "text", create: true, edit: true, whenEmptied: "null" },
  {
    name: "utm.campaign",
    label: "utm_campaign",
    kind: "text",
    create: true,
    edit: true,
    whenEmptied: "null",
  },
  { name: "utm.term", label: "utm_term", kind: "text", create: true, edit: true, whenEmptied: "null" },
  { name: "utm.content", label: "utm_content", kind: "text", create: true, edit: true, whenEmptied: "null" },
  {
    section: "Social preview (shown to link-preview crawlers)",
    name: "preview.title",
    label: "Preview title",
    kind: "text",
    create: true,
    edit: true,
    whenEmptied: "null",
  },
  {
    name: "preview.description",
    label: "Preview description",
    kind: "text",
    create: true,
    edit: true,
    whenEmptied: "null",
  },
  {
    name: "preview.image",
    label: "Preview image URL",
    kind: "url",
    create: true,
    edit: true,
    whenEmptied: "null",
  },
  {
    section: "Redirect rules",
    name: "rules",
    label: "Rules (JSON)",
    kind: "json",
    help:
      'A list; the first rule whose conditions all hold picks the target, e.g. [{"when": {"device": ["ios"]}, ' +
      '"url": "https://apps.apple.com/app/id1"}]. Conditions: country, device, language, query, after, before.',
    create: true,
    edit: true,
    whenEmptied: "empty-list",
  },
];

export type FormValues = Record<string, string | boolean>;

/** `link.preview.title` for the name `preview.title`. */
function valueAt(link: Link | undefined, name: string): unknown {
  let value: unknown = link;
  for (const key of name.split(".")) {
    value = value && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
}

/** The form's starting values: empty, or a stored link's. */
export function initialValues(fields: FieldSpec[], link?: Link): FormValues {
  const values: FormValues = {};
  for (const f of fields) {
    const v = f.kind === "secret" ? undefined : valueAt(link, f.name);
    if (f.kind === "checkbox") values[f.name] = v === true;
    else if (v === null || v === undefined)
      values[f.name] = f.kind === "select" ? (f.options?.[0]?.value ?? "") : "";
    else if (f.kind === "tags") values[f.name] = (v as string[]).join(", ");
    else if (f.kind === "datetime") values[f.name] = toLocalInput(v as string);
    else if (f.kind === "json")
      values[f.name] = Array.isArray(v) && v.length === 0 ? "" : JSON.stringify(v, null, 2);
    else values[f.name] = String(v);
  }
  return values;
}

const EMPTIED = { null: null, "empty-list": [] } as const;

/**
 * The API body for `values`: empty fields left out (or cleared when editing, as `whenEmptied` says), each
 * kind converted to the type the API takes. A problem the browser sees first (JSON that does not parse) is
 * thrown as field problems, in the API's own shape.
 */
export function toBody(
  fields: FieldSpec[],
  values: FormValues,
  mode: "create" | "edit",
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const groups = new Map<
    string,
    { value: Record<string, unknown>; whenEmptied?: FieldSpec["whenEmptied"] }
  >();
  const problems: Array<{ path: string; message: string }> = [];
  for (const f of fields) {
    const [group, key] = f.name.includes(".") ? (f.name.split(".", 2) as [string, string]) : [null, f.name];
    const target = group
      ? (groups.get(group) ?? groups.set(group, { value: {}, whenEmptied: f.whenEmptied }).get(group))?.value
      : body;
    if (!target) continue;
    const raw = values[f.name];
    if (f.kind === "checkbox") {
      target[key] = raw === true;
      continue;
    }
    const text = typeof raw === "string" ? raw.trim() : "";
    if (text === "") {
      if (!group && mode === "edit" && f.whenEmptied) target[key] = EMPTIED[f.whenEmptied];
      continue;
    }
    if (f.kind === "number" || f.parse === "number") target[key] = Number(text);
    else if (f.parse === "boolean") target[key] = text === "true";
    else if (f.kind === "tags")
      target[key] = text
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean);
    else if (f.kind === "datetime") target[key] = new Date(text).toISOString();
    else if (f.kind === "json") {
      try {
        target[key] = JSON.parse(text);
      } catch {
        problems.push({ path: f.name, message: "is not valid JSON" });
      }
    } else target[key] = text;
  }
  for (const [group, { value, whenEmptied }] of groups) {
    if (Object.keys(value).length > 0) body[group] = value;
    else if (mode === "edit" && whenEmptied) body[group] = EMPTIED[whenEmptied];
  }
  if (problems.length > 0) throw Object.assign(new Error("some fields are not valid"), { problems });
  return body;
}

/** The field an API error path belongs to: the longest field name that starts it (`rules.0.url` → `rules`). */
export function fieldOf(fields: FieldSpec[], path: string): string | null {
  let best: string | null = null;
  for (const f of fields) {
    if ((path === f.name || path.startsWith(`${f.name}.`)) && (!best || f.name.length > best.length))
      best = f.name;
  }
  return best;
}

/** An ISO instant as a `datetime-local` input's value, in the browser's time zone. */
function toLocalInput(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
