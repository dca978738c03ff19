/**
 * SVG charts of a bench run, drawn with Vega-Lite compiled to Vega and rendered headless in Node
 * (no browser, no canvas). Vega is ESM-only with top-level await, so it is imported dynamically.
 */
import type { DensityResult } from './density-bench';
import type { DriverLatency } from './latency-bench';
import type { SampleStats } from './sample-stats';

async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const vl = await import('vega-lite');
  const vega = await import('vega');
  const compiled = vl.compile(spec as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  return view.toSVG();
}

export function latencyRows(latency: DriverLatency[], floor?: SampleStats): { label: string; kind: string; medianMs: number; p95Ms: number }[] {
  const rows: { label: string; kind: string; medianMs: number; p95Ms: number }[] = [];
  for (const l of latency) {
    rows.push({ label: `${l.driver} (berth API)`, kind: 'berth', medianMs: l.startToExit.medianMs, p95Ms: l.startToExit.p95Ms });
    if (l.raw && 'startToExit' in l.raw) rows.push({ label: `${l.raw.name} (raw)`, kind: 'raw backend', medianMs: l.raw.startToExit.medianMs, p95Ms: l.raw.startToExit.p95Ms });
  }
  if (floor) rows.push({ label: 'unshare (kernel floor)', kind: 'kernel', medianMs: floor.medianMs, p95Ms: floor.p95Ms });
  return rows;
}

export function latencyChart(latency: DriverLatency[], floor?: SampleStats): Promise<string> {
  return renderSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'start-to-exit of /bin/true, median (ms)',
    width: 480,
    data: { values: latencyRows(latency, floor) },
    mark: 'bar',
    encoding: {
      y: { field: 'label', type: 'nominal', sort: null, title: null, axis: { labelLimit: 320 } },
      x: { field: 'medianMs', type: 'quantitative', title: 'median ms' },
      color: { field: 'kind', type: 'nominal', title: null },
      tooltip: [{ field: 'p95Ms', title: 'p95 ms' }],
    },
  });
}

export function densityChart(density: DensityResult[]): Promise<string> {
  const values = density.flatMap((d) => d.curve.map((p) => ({ driver: d.driver, containers: p.n, seconds: p.ms / 1000 })));
  return renderSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'detached containers running over time',
    width: 480,
    height: 300,
    data: { values },
    mark: 'line',
    encoding: {
      x: { field: 'seconds', type: 'quantitative', title: 'seconds since the first create' },
      y: { field: 'containers', type: 'quantitative', title: 'containers running' },
      color: { field: 'driver', type: 'nominal' },
    },
  });
}
