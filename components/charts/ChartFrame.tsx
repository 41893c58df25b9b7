"use client";
/**
 * A titled chart with its legend and SVG/PNG download buttons. The legend is drawn here
 * (not by Recharts) so that the exported file shows exactly the same entries.
 */
import { useRef, useState, type ReactNode } from "react";
import styles from "./charts.module.css";
import { chartSvg, downloadBlob, svgToPng, type LegendEntry } from "./exportChart";

export type { LegendEntry };

export function ChartFrame(props: {
  title: string;
  /** File name without extension, e.g. "run_x-certified-accuracy". */
  filename: string;
  legend?: readonly LegendEntry[];
  /** Controls (e.g. a round selector) shown next to the title. */
  controls?: ReactNode;
  /** What the chart shows when it has no data: a sentence, not a blank box. */
  empty?: string | null;
  testId?: string;
  /** Extra data-* attributes for tests and scrapers. */
  data?: Record<string, string | number>;
  children: ReactNode;
}) {
  const { title, filename, legend = [], controls, empty, testId, data = {}, children } = props;
  const body = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  const dataAttributes = Object.fromEntries(Object.entries(data).map(([k, v]) => [`data-${k}`, String(v)]));

  const exportAs = async (format: "svg" | "png") => {
    setError(null);
    if (!body.current) return;
    try {
      const { svg, width, height } = chartSvg(body.current, title, legend);
      if (format === "svg") downloadBlob(`${filename}.svg`, svg, "image/svg+xml");
      else downloadBlob(`${filename}.png`, await svgToPng(svg, width, height));
    } catch (e) {
      setError(`Could not export the chart: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  return (
    <figure className={styles.chart} data-testid={testId} {...dataAttributes}>
      <figcaption className={styles.caption}>
        <span className={styles.title}>{title}</span>
        {controls}
        <span className={styles.spacer} />
        {!empty && (
          <span className={styles.exports}>
            <button type="button" className="secondary" onClick={() => exportAs("svg")} aria-label={`Download “${title}” as SVG`}>SVG</button>
            <button type="button" className="secondary" onClick={() => exportAs("png")} aria-label={`Download “${title}” as PNG`}>PNG</button>
          </span>
        )}
      </figcaption>
      {legend.length > 0 && !empty && (
        <ul className={styles.legend} aria-label={`${title}: legend`}>
          {legend.map((e) => (
            <li key={e.label}>
              <span
                aria-hidden
                className={e.dashed ? styles.swatchDashed : styles.swatch}
                style={e.dashed ? { borderColor: e.color } : { background: e.color, opacity: e.opacity ?? 1 }}
              />
              {e.label}
            </li>
          ))}
        </ul>
      )}
      {error && <div className="alert" role="alert">{error}</div>}
      <div ref={body}>{empty ? <div className="empty">{empty}</div> : children}</div>
    </figure>
  );
}
