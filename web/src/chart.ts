/**
 * A line chart over time with uPlot (canvas, ~50 KB, no dependencies): a measured series against its limit.
 * The table beside it (screen readers, keyboards) carries the same numbers.
 */
import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface Series {
  label: string;
  values: (number | null)[];
  color: string;
  dash?: number[];
}

export function TimeChart(props: {
  title: string;
  times: number[];
  series: Series[];
  unit: string;
  empty: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = [props.times.map((t) => t / 1000), ...props.series.map((s) => s.values)] as uPlot.AlignedData;

  useEffect(() => {
    const el = box.current!;
    const width = () => Math.max(260, el.clientWidth);
    plot.current = new uPlot(
      {
        width: width(),
        height: 200,
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] } },
        axes: [
          {
            space: 70,
            values: (_u: uPlot, splits: number[]) =>
              splits.map((t) =>
                new Date(t * 1000).toLocaleTimeString([], {
                  hour: '2-digit',
                  minute: '2-digit',
                  second: '2-digit',
                }),
              ),
          },
          { label: props.unit, size: 60 },
        ],
        series: [
          {},
          ...props.series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            dash: s.dash,
            points: { show: false },
          })),
        ],
        legend: { live: false },
      },
      data,
      el,
    );
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: width(), height: 200 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [props.series.length]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  return html`<figure class="chart">
    <figcaption>${props.title}</figcaption>
    ${props.times.length < 2 ? html`<p class="muted small chart-note">${props.empty}</p>` : null}
    <div
      ref=${box}
      role="img"
      aria-label=${`${props.title}: ${props.series.map((s) => `${s.label} now ${s.values.at(-1) ?? '—'}`).join(', ')}`}
    ></div>
  </figure>`;
}
