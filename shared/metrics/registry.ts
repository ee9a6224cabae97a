/**
 * A small Prometheus registry that runs in workerd (prom-client needs Node APIs).
 * Label values are fixed at registration time (`counter.labels("redirect", "302")`
 * returns a cached child), so the hot path only adds to a number: no string building
 * or allocation per request.
 */

type Labels = readonly string[];

abstract class Metric {
  protected readonly children = new Map<string, { labels: Labels; value: number[] }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: Labels,
    readonly type: "counter" | "gauge" | "histogram",
  ) {}

  protected child(labels: Labels, size: number): number[] {
    const key = labels.join("\u0000");
    let entry = this.children.get(key);
    if (!entry) {
      entry = { labels, value: new Array<number>(size).fill(0) };
      this.children.set(key, entry);
    }
    return entry.value;
  }

  protected labelText(labels: Labels, extra = ""): string {
    const parts = this.labelNames.map((n, i) => `${n}="${escapeLabel(labels[i] ?? "")}"`);
    if (extra) parts.push(extra);
    return parts.length ? `{${parts.join(",")}}` : "";
  }

  abstract render(): string;

  protected header(): string {
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${this.type}\n`;
  }
}

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** A metric with one number per label set. */
abstract class ScalarMetric extends Metric {
  render(): string {
    let out = this.header();
    if (this.children.size === 0 && this.labelNames.length === 0) out += `${this.name} 0\n`;
    for (const { labels, value } of this.children.values())
      out += `${this.name}${this.labelText(labels)} ${value[0]}\n`;
    return out;
  }
}

export class Counter extends ScalarMetric {
  constructor(name: string, help: string, labelNames: Labels = []) {
    super(name, help, labelNames, "counter");
  }

  /** A handle for fixed label values; keep it, and call `inc` on it per event. */
  labels(...values: string[]): { inc(by?: number): void } {
    const cell = this.child(values, 1);
    return {
      inc: (by = 1) => {
        cell[0] = (cell[0] as number) + by;
      },
    };
  }

  inc(by = 1): void {
    this.labels().inc(by);
  }
}

export class Gauge extends ScalarMetric {
  constructor(name: string, help: string, labelNames: Labels = []) {
    super(name, help, labelNames, "gauge");
  }

  set(value: number, ...labels: string[]): void {
    this.child(labels, 1)[0] = value;
  }
}

export class Histogram extends Metric {
  constructor(
    name: string,
    help: string,
    readonly buckets: readonly number[],
    labelNames: Labels = [],
  ) {
    super(name, help, labelNames, "histogram");
  }

  /** A handle for fixed label values; `observe` finds the bucket and adds, nothing more. */
  labels(...values: string[]): { observe(v: number): void } {
    // Cells: one per bucket, then +Inf, sum, count.
    const cells = this.child(values, this.buckets.length + 3);
    const n = this.buckets.length;
    return {
      observe: (v: number) => {
        let i = 0;
        while (i < n && v > (this.buckets[i] as number)) i++;
        cells[i] = (cells[i] as number) + 1;
        cells[n + 1] = (cells[n + 1] as number) + v;
        cells[n + 2] = (cells[n + 2] as number) + 1;
      },
    };
  }

  observe(v: number): void {
    this.labels().observe(v);
  }

  render(): string {
    let out = this.header();
    const n = this.buckets.length;
    const entries = [...this.children.values()];
    if (entries.length === 0 && this.labelNames.length === 0)
      entries.push({ labels: [], value: new Array(n + 3).fill(0) });
    for (const { labels, value } of entries) {
      let cumulative = 0;
      for (let i = 0; i <= n; i++) {
        cumulative += value[i] as number;
        const le = i < n ? String(this.buckets[i]) : "+Inf";
        out += `${this.name}_bucket${this.labelText(labels, `le="${le}"`)} ${cumulative}\n`;
      }
      out += `${this.name}_sum${this.labelText(labels)} ${value[n + 1]}\n`;
      out += `${this.name}_count${this.labelText(labels)} ${value[n + 2]}\n`;
    }
    return out;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];

  register<M extends Metric>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }

  /** The Prometheus text exposition format (version 0.0.4). */
  render(): string {
    return this.metrics.map((m) => m.render()).join("");
  }
}

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
