import { useEffect, useState } from "preact/hooks";
import { type Api, messageOf } from "../api";

/**
 * The link's QR code from the API (`/api/v1/links/{slug}/qr`): shown as SVG, downloadable as SVG or PNG at
 * the chosen size and error-correction level. The image is fetched with the key and shown from a blob URL.
 */
export function QrPanel(props: { api: Api; slug: string; domain?: string }) {
  const [size, setSize] = useState("512");
  const [ecc, setEcc] = useState("M");
  const [src, setSrc] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const query = (format: string) => new URLSearchParams({ format, size, ecc });

  useEffect(() => {
    let url: string | null = null;
    props.api.qr(props.slug, props.domain, query("svg")).then(
      (blob) => {
        url = URL.createObjectURL(blob);
        setSrc(url);
      },
      (err) => setError(messageOf(err)),
    );
    return () => {
      if (url) URL.revokeObjectURL(url);
    };
  }, [props.api, props.slug, props.domain, size, ecc]);

  const download = async (format: "svg" | "png") => {
    try {
      const url = URL.createObjectURL(await props.api.qr(props.slug, props.domain, query(format)));
      const a = document.createElement("a");
      a.href = url;
      a.download = `${props.slug}-qr.${format}`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setError(messageOf(err));
    }
  };

  return (
    <section class="qr" aria-labelledby="qr-title">
      <h2 id="qr-title">QR code</h2>
      <div class="qr-body">
        {src ? (
          <img src={src} alt={`QR code of the short URL of ${props.slug}`} width={200} height={200} />
        ) : null}
        <div>
          <div class="field">
            <label for="qr-size">Size (pixels)</label>
            <select
              id="qr-size"
              value={size}
              onChange={(e) => setSize((e.currentTarget as HTMLSelectElement).value)}
            >
              {["256", "512", "1024", "2048"].map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="qr-ecc">Error correction</label>
            <select
              id="qr-ecc"
              value={ecc}
              onChange={(e) => setEcc((e.currentTarget as HTMLSelectElement).value)}
            >
              <option value="L">L: 7% may be lost</option>
              <option value="M">M: 15%</option>
              <option value="Q">Q: 25%</option>
              <option value="H">H: 30%</option>
            </select>
          </div>
          <div class="actions">
            <button type="button" onClick={() => download("svg")}>
              Download SVG
            </button>
            <button type="button" onClick={() => download("png")}>
              Download PNG
            </button>
          </div>
        </div>
      </div>
      {error ? (
        <p role="alert" class="error">
          {error}
        </p>
      ) : null}
    </section>
  );
}
