// Charts drawn by uPlot (small, fast, canvas). Each chart is a figure with a text summary for
// screen readers and a "Show as table" disclosure with the same numbers.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

export interface Series {
  label: string;
  values: number[];
  color: string;
  /** Bars instead of a line. */
  bars?: boolean;
}

type ChartProps = {
  title: string;
  summary: string;
  /** x values: UTC midnight of each day, in seconds (uPlot's time unit). */
  days: number[];
  series: Series[];
  formatValue: (value: number) => string;
  /** Counts: ticks at whole numbers only. */
  integer?: boolean;
};

export function DailyChart({ title, summary, days, series, formatValue, integer = false }: ChartProps) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const bars = uPlot.paths.bars?.({ size: [0.6, 24] });
    const plot = new uPlot(
      {
        width: Math.max(element.clientWidth, 240),
        height: 220,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        // Zero-based, so an empty month reads as zero rather than a line in the middle.
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(max, integer ? 4 : 1)] } },
        axes: [
          { stroke: "#57606a", grid: { stroke: "#eaeef2" } },
          {
            stroke: "#57606a",
            grid: { stroke: "#eaeef2" },
            size: 70,
            ...(integer ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] } : {}),
            values: (_u, ticks) => ticks.map((t) => formatValue(t)),
          },
        ],
        series: [
          {
            label: "Day",
            value: (_u, v) => (v === null ? "—" : new Date(v * 1000).toISOString().slice(0, 10)),
          },
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: s.bars ? 0 : 2,
            fill: s.bars ? s.color : `${s.color}22`,
            points: { show: false },
            value: (_u: uPlot, v: number | null) => (v === null ? "—" : formatValue(v)),
            ...(s.bars && bars ? { paths: bars } : {}),
          })),
        ],
      },
      [days, ...series.map((s) => s.values)],
      element,
    );
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(element.clientWidth, 240), height: 220 }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [days, series, formatValue, integer]);

  return (
    <figure class="chart-figure">
      <div ref={host} class="chart" role="img" aria-label={`${title}: ${summary}`} />
      <figcaption class="muted">{summary}</figcaption>
      <details>
        <summary>Show as table</summary>
        <div class="table-wrap">
          <table>
            <caption class="sr-only">{title}</caption>
            <thead>
              <tr>
                <th scope="col">Day (UTC)</th>
                {series.map((s) => (
                  <th scope="col" class="num" key={s.label}>
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {days.map((day, i) => (
                <tr key={day}>
                  <td>{new Date(day * 1000).toISOString().slice(0, 10)}</td>
                  {series.map((s) => (
                    <td class="num" key={s.label}>
                      {formatValue(s.values[i] ?? 0)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
