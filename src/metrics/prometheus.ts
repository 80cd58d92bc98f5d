/**
 * The one Prometheus writer: text exposition, format 0.0.4, for both scrapes of this project (the HTTP
 * server's /metrics, read from visibility; the worker's, from its own stats). They need gauges and counters
 * with labels and nothing else, so a few lines do it rather than a client library with its own registry.
 */

/** One sample: its labels (beside the exposition's own) and its value; null or not finite is written NaN. */
export type Sample = [labels: Record<string, string>, value: number | null];

function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export class Exposition {
  private readonly lines: string[] = [];
  /** `labels`: on every sample (e.g. the worker's task queue). */
  constructor(private readonly labels: Record<string, string> = {}) {}

  metric(name: string, type: 'gauge' | 'counter', help: string, samples: Sample[]): this {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const l = Object.entries({ ...this.labels, ...labels })
        .map(([k, v]) => `${k}="${labelValue(v)}"`)
        .join(',');
      const v = value === null || !Number.isFinite(value) ? 'NaN' : String(value);
      this.lines.push(`${name}${l ? `{${l}}` : ''} ${v}`);
    }
    return this;
  }

  gauge(name: string, help: string, samples: Sample[]): this {
    return this.metric(name, 'gauge', help, samples);
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}
