import { useState } from "preact/hooks";

/** Copies `text` to the clipboard and says so (politely, for screen readers too). */
export function CopyButton(props: { text: string; label?: string }) {
  const [copied, setCopied] = useState<"" | "copied" | "failed">("");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.text);
      setCopied("copied");
    } catch {
      setCopied("failed");
    }
    setTimeout(() => setCopied(""), 2000);
  };
  return (
    <button type="button" class="copy" onClick={copy} aria-label={`${props.label ?? "Copy"} ${props.text}`}>
      {copied === "copied" ? "Copied" : copied === "failed" ? "Copy failed" : (props.label ?? "Copy")}
      <span class="visually-hidden" aria-live="polite">
        {copied === "copied" ? "Copied to the clipboard" : ""}
      </span>
    </button>
  );
}
