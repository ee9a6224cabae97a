import { Fragment } from "preact";
import { useRef, useState } from "preact/hooks";
import { type Api, ApiProblem, type Link, messageOf } from "../api";
import { type FieldSpec, fieldOf, initialValues, LINK_FIELDS, toBody } from "../link-fields";
import { Field, fieldId } from "./field";

/**
 * Create or edit a link with every field the API has (link-fields.ts). The API validates; its field
 * problems are shown beside their fields, and focus moves to the first of them.
 */
export function LinkForm(props: {
  api: Api;
  link?: Link;
  /** The link's domain as its route named it (left out for the default domain). */
  domain?: string;
  onSaved: (link: Link) => void;
  onCancel?: () => void;
}) {
  const mode = props.link ? "edit" : "create";
  const fields: FieldSpec[] = LINK_FIELDS.filter((f) => (mode === "edit" ? f.edit : f.create));
  const [values, setValues] = useState(() => initialValues(fields, props.link));
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [summary, setSummary] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  /** Editing a protected link: an empty password field keeps the password, so removing it is its own choice. */
  const [removePassword, setRemovePassword] = useState(false);
  const form = useRef<HTMLFormElement>(null);

  /** Each problem beside the field its path names; the rest (and `message`) in the summary above the form. */
  const showProblems = (problems: Array<{ path: string; message: string }>, message: string) => {
    const known: Record<string, string[]> = {};
    const other: string[] = [];
    for (const p of problems) {
      const field = fieldOf(fields, p.path);
      if (field)
        known[field] = [
          ...(known[field] ?? []),
          p.path === field ? p.message : `${p.path.slice(field.length + 1)}: ${p.message}`,
        ];
      else other.push(p.path === "(body)" ? p.message : `${p.path}: ${p.message}`);
    }
    setErrors(known);
    const marked = Object.keys(known).length > 0;
    setSummary(
      [marked ? "Some fields need a change: see the messages below them." : message, ...other].join(" — "),
    );
    requestAnimationFrame(() => {
      const first = fields.find((f) => known[f.name]);
      const target = first ? `#${fieldId(first.name)}` : ".form-summary";
      form.current?.querySelector<HTMLElement>(target)?.focus();
    });
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      const body = toBody(fields, values, mode);
      if (removePassword) body.password = null;
      const saved = props.link
        ? await props.api.update(props.link.slug, props.domain, body)
        : await props.api.create(body);
      setErrors({});
      setSummary(null);
      props.onSaved(saved);
    } catch (err) {
      if (err instanceof ApiProblem) showProblems(err.errors, messageOf(err));
      else if (err && typeof err === "object" && "problems" in err) {
        showProblems((err as { problems: Array<{ path: string; message: string }> }).problems, "");
      } else showProblems([], messageOf(err));
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
        <Fragment key={spec.name}>
          {spec.section ? <h2 class="form-section">{spec.section}</h2> : null}
          <Field
            spec={spec}
            help={mode === "edit" ? (spec.editHelp ?? spec.help) : spec.help}
            values={values}
            errors={errors[spec.name]}
            onChange={(name, value) => setValues((v) => ({ ...v, [name]: value }))}
          />
          {spec.name === "password" && props.link?.passwordProtected ? (
            <div class="field">
              {/* The check row is reversed (box before label); the help goes below it, not beside. */}
              <div class="field-check">
                <label for="field-password-remove">Remove the password</label>
                <input
                  id="field-password-remove"
                  type="checkbox"
                  aria-describedby="field-password-remove-help"
                  checked={removePassword}
                  onChange={(e) => setRemovePassword((e.currentTarget as HTMLInputElement).checked)}
                />
              </div>
              <p class="help" id="field-password-remove-help">
                Visitors are then redirected without a form
              </p>
            </div>
          ) : null}
        </Fragment>
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
