import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/**
 * Clicks over time, humans and bots as two lines (uPlot on a canvas). The same numbers are in the table
 * beside it, for screen readers and for anyone who wants the figures.
 */
export function ClicksChart(props: {
  points: Array<{ t: string; humans: number; bots: number }>;
  label: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const data: uPlot.AlignedData = [
      props.points.map((p) => Date.parse(p.t) / 1000),
      props.points.map((p) => p.humans),
      props.points.map((p) => p.bots),
    ];
    const width = () => Math.max(280, el.clientWidth);
    const plot = new uPlot(
      {
        width: width(),
        height: 240,
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [{}, { values: (_u, ticks) => ticks.map((v) => (Number.isInteger(v) ? String(v) : "")) }],
        series: [
          {},
          { label: "Humans", stroke: "#1d4ed8", width: 2, fill: "rgba(29,78,216,0.08)" },
          { label: "Bots", stroke: "#b45309", width: 2, dash: [6, 4] },
        ],
      },
      data,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: 240 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.points]);
  return <div ref={box} class="chart" role="img" aria-label={props.label} />;
}
