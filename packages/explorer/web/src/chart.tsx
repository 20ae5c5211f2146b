/** A uPlot time-series chart that follows the theme and the container's width. */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Series { label: string; values: number[]; color: string; scale?: string }

export function TimeChart({ times, series, title, height = 240 }: { times: number[]; series: Series[]; title: string; height?: number }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const host = el.current;
    if (!host) return;
    const axisColor = getComputedStyle(document.documentElement).getPropertyValue("--fg").trim() || "#222";
    const scales = [...new Set(series.map((s) => s.scale ?? "y"))];
    const plot = new uPlot({
      width: Math.max(280, host.clientWidth), height,
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, scale: s.scale ?? "y", fill: `${s.color}22` }))],
      axes: [
        { stroke: axisColor, grid: { stroke: "#8884" } },
        ...scales.map((sc, i) => ({ scale: sc, stroke: axisColor, side: i === 0 ? 3 : 1, grid: { show: i === 0, stroke: "#8884" } })),
      ],
    }, [times, ...series.map((s) => s.values)], host);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(280, host.clientWidth), height }));
    ro.observe(host);
    return () => { ro.disconnect(); plot.destroy(); };
  }, [times, series, height]);
  return <figure class="chart"><figcaption>{title}</figcaption><div ref={el} role="img" aria-label={title} /></figure>;
}
