import type { FieldSpec, FormValues } from "../link-fields";

/** The element id of a field's input (`preview.title` → `field-preview-title`). */
export const fieldId = (name: string) => `field-${name.replace(/\W/g, "-")}`;

/** One labelled input of a link form, with its help and the API's errors tied to it for screen readers. */
export function Field(props: {
  spec: FieldSpec;
  /** The help line, when it differs from the spec's (editing). */
  help?: string;
  values: FormValues;
  errors?: string[];
  onChange: (name: string, value: string | boolean) => void;
}) {
  const { spec, values, errors, onChange } = props;
  const help = props.help ?? spec.help;
  const id = fieldId(spec.name);
  const describedBy = [help ? `${id}-help` : "", errors?.length ? `${id}-error` : ""]
    .filter(Boolean)
    .join(" ");
  const common = {
    id,
    name: spec.name,
    "aria-invalid": errors?.length ? ("true" as const) : undefined,
    "aria-describedby": describedBy || undefined,
    required: spec.required,
  };
  const value = values[spec.name];
  const set = (e: Event) => onChange(spec.name, (e.currentTarget as HTMLInputElement).value);
  const inputType = (
    { url: "url", number: "number", datetime: "datetime-local", secret: "password" } as const
  )[spec.kind as "url" | "number" | "datetime" | "secret"];
  let input: preact.JSX.Element;
  switch (spec.kind) {
    case "select":
      input = (
        <select {...common} value={String(value)} onChange={set}>
          {spec.options?.map((o) => (
            <option value={o.value} key={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      );
      break;
    case "json":
      input = <textarea {...common} rows={6} value={String(value)} onInput={set} spellcheck={false} />;
      break;
    case "checkbox":
      input = (
        <input
          {...common}
          type="checkbox"
          checked={value === true}
          onChange={(e) => onChange(spec.name, (e.currentTarget as HTMLInputElement).checked)}
        />
      );
      break;
    default:
      input = (
        <input
          {...common}
          type={(inputType ?? "text") as "text"}
          inputMode={spec.kind === "url" ? ("url" as const) : undefined}
          autoComplete={spec.kind === "secret" ? "new-password" : "off"}
          min={spec.kind === "number" ? 1 : undefined}
          value={String(value)}
          onInput={set}
        />
      );
  }
  return (
    <div
      class={`field${spec.kind === "checkbox" ? " field-check" : ""}${errors?.length ? " has-error" : ""}`}
    >
      <label for={id}>
        {spec.label}
        {spec.required ? <span aria-hidden="true"> *</span> : null}
      </label>
      {input}
      {help ? (
        <p class="help" id={`${id}-help`}>
          {help}
        </p>
      ) : null}
      {errors?.length ? (
        <p class="error" id={`${id}-error`}>
          {errors.join("; ")}
        </p>
      ) : null}
    </div>
  );
}
