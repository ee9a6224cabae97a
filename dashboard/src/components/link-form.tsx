import { useRef, useState } from "preact/hooks";
import { type Api, ApiProblem, type Link, messageOf } from "../api";
import { type FieldSpec, initialValues, LINK_FIELDS, toBody } from "../link-fields";
import { Field } from "./field";

/**
 * Create or edit a link with every field the API has (link-fields.ts). The API validates; its field
 * problems are shown beside their fields, and focus moves to the first of them.
 */
export function LinkForm(props: {
  api: Api;
  link?: Link;
  onSaved: (link: Link) => void;
  onCancel?: () => void;
}) {
  const mode = props.link ? "edit" : "create";
  const fields: FieldSpec[] = LINK_FIELDS.filter((f) => (mode === "edit" ? f.edit : f.create));
  const [values, setValues] = useState(() => initialValues(fields, props.link));
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [summary, setSummary] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);

  const showProblems = (byField: Record<string, string[]>, message: string) => {
    const known = Object.fromEntries(
      Object.entries(byField).filter(([name]) => fields.some((f) => f.name === name)),
    );
    const other = Object.entries(byField).filter(([name]) => !(name in known));
    setErrors(known);
    setSummary(
      [
        message,
        ...other.map(([name, messages]) => `${name === "(body)" ? "" : `${name}: `}${messages.join("; ")}`),
      ]
        .filter(Boolean)
        .join(" — "),
    );
    requestAnimationFrame(() => {
      const first = fields.find((f) => known[f.name]);
      (first
        ? form.current?.querySelector<HTMLElement>(`#field-${first.name}`)
        : form.current?.querySelector<HTMLElement>(".form-summary")
      )?.focus();
    });
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      const body = toBody(fields, values, mode);
      const saved = props.link ? await props.api.update(props.link.slug, body) : await props.api.create(body);
      setErrors({});
      setSummary(null);
      props.onSaved(saved);
    } catch (err) {
      if (err instanceof ApiProblem) {
        const byField = err.byField();
        const marked = Object.keys(byField).some((name) => fields.some((f) => f.name === name));
        showProblems(
          byField,
          marked ? "Some fields need a change: see the messages below them." : messageOf(err),
        );
      } else if (err && typeof err === "object" && "problems" in err) {
        const problems = (err as { problems: Array<{ path: string; message: string }> }).problems;
        showProblems(
          Object.fromEntries(problems.map((p) => [p.path, [p.message]])),
          "Some fields are not valid",
        );
      } else showProblems({}, messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form ref={form} class="link-form" onSubmit={submit} noValidate aria-busy={busy}>
      {summary ? (
        <div class="form-summary" role="alert" tabIndex={-1}>
          {summary}
        </div>
      ) : null}
      {fields.map((spec) => (
        <Field
          key={spec.name}
          spec={spec}
          values={values}
          errors={errors[spec.name]}
          onChange={(name, value) => setValues((v) => ({ ...v, [name]: value }))}
        />
      ))}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {mode === "edit" ? "Save changes" : "Create link"}
        </button>
        {props.onCancel ? (
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}
