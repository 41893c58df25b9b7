"use client";
/**
 * Every chart's frame (run page, compare page, shared pages, inspector): its title, units,
 * legend, controls and SVG/PNG download buttons. The legend is drawn here (not by
 * Recharts) so that the exported file shows exactly the same entries; with `onToggle` its
 * entries are buttons that show or hide a series.
 */
import { useEffect, useRef, useState, type ReactNode } from "react";
import styles from "./charts.module.css";
import { chartSvg, downloadBlob, slug, svgToPng, type LegendEntry } from "./exportChart";

export type { LegendEntry };

export function ChartFrame(props: {
  title: string;
  /** What the axes measure, e.g. "y: % of the samples; x: pruning round", under the title. */
  units?: string;
  /** File name without extension, e.g. "run_x-certified-accuracy" (default: the title as a slug). */
  filename?: string;
  legend?: readonly LegendEntry[];
  /** Shown instead of the plain legend of `legend`, e.g. an interactive one; `legend` is still exported. */
  legendNode?: ReactNode;
  /** Controls (e.g. a round selector) shown in the frame's head. */
  controls?: ReactNode;
  /**
   * Nothing to draw: a sentence shown instead of the chart (not a blank box), or `true`
   * when the chart says so itself. Either way there is nothing to export.
   */
  empty?: string | boolean | null;
  /** A note under the chart. */
  caption?: ReactNode;
  /**
   * Draw the chart only once it is scrolled near (or exported): charts below the first
   * screen then cost nothing when the page opens. `height` holds its place meanwhile.
   */
  lazy?: { height: number };
  /** A panel of its own (the compare page's grid); otherwise it sits inside one. */
  boxed?: boolean;
  /** The title's heading level: 3 inside a section that has its own heading. */
  level?: 2 | 3;
  className?: string;
  testId?: string;
  /** Extra data-* attributes for tests and for people reading the DOM. */
  data?: Record<string, string | number>;
  children: ReactNode;
}) {
  const { title, units = "", legend = [], controls, empty, testId, data = {}, children } = props;
  const filename = props.filename ?? slug(title);
  const body = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [shown, setShown] = useState(!props.lazy);
  useEffect(() => {
    if (shown || !body.current) return;
    const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && setShown(true), { rootMargin: "300px" });
    observer.observe(body.current);
    // Printing shows every chart, scrolled to or not.
    const print = () => setShown(true);
    window.addEventListener("beforeprint", print);
    return () => {
      observer.disconnect();
      window.removeEventListener("beforeprint", print);
    };
  }, [shown]);
  const dataAttributes = Object.fromEntries(Object.entries(data).map(([k, v]) => [`data-${k}`, String(v)]));

  const exportAs = async (format: "svg" | "png") => {
    setError(null);
    // A chart waiting to be scrolled to is drawn first.
    setShown(true);
    for (let i = 0; i < 60 && body.current && !body.current.querySelector("svg"); i++) await new Promise((r) => requestAnimationFrame(r));
    if (!body.current) return;
    try {
      const { svg, width, height } = chartSvg(body.current, title, legend, units);
      if (format === "svg") downloadBlob(`${filename}.svg`, svg, "image/svg+xml");
      else downloadBlob(`${filename}.png`, await svgToPng(svg, width, height));
    } catch (e) {
      setError(`Could not export the chart: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  const Heading = props.level === 3 ? "h3" : "h2";
  const message = typeof empty === "string" ? empty : null;
  return (
    <section
      className={`${styles.chart} ${props.boxed ? styles.boxed : ""} ${props.className ?? ""}`}
      data-testid={testId}
      aria-label={title}
      {...dataAttributes}
    >
      <header className={styles.head}>
        <Heading className={styles.title}>{title}</Heading>
        {units && <span className={styles.units}>{units}</span>}
        {!units && controls}
        {/* Right-aligned, also when a long title and units push them onto a line of their own. */}
        <span className={styles.actions}>
          {units && controls}
          {!empty && (
            <span className={styles.exports}>
              <button type="button" className="secondary" onClick={() => exportAs("svg")} aria-label={`Download “${title}” as SVG`}>SVG</button>
              <button type="button" className="secondary" onClick={() => exportAs("png")} aria-label={`Download “${title}” as PNG`}>PNG</button>
            </span>
          )}
        </span>
      </header>
      {!message && (props.legendNode ?? (legend.length > 0 && <Legend entries={legend} />))}
      {error && <div className="alert" role="alert">{error}</div>}
      <div ref={body} style={shown ? undefined : { minHeight: props.lazy!.height }}>
        {message ? <div className="empty">{message}</div> : shown ? children : null}
      </div>
      {props.caption && <p className={styles.note}>{props.caption}</p>}
    </section>
  );
}

/**
 * A chart's legend. With `onToggle`, each entry is a button that shows or hides its series
 * (`hidden`: the labels switched off); without, entries in `hidden` are shown struck out.
 * `line`: swatches drawn as lines (line charts).
 */
export function Legend({ entries, hidden, onToggle, line }: { entries: readonly LegendEntry[]; hidden?: string[]; onToggle?: (label: string) => void; line?: boolean }) {
  const swatch = (e: LegendEntry) => (
    <span
      aria-hidden
      className={e.dashed ? styles.swatchDashed : line ? styles.swatchLine : styles.swatch}
      style={e.dashed ? { borderColor: e.color } : { background: e.color, opacity: e.opacity ?? 1 }}
    />
  );
  return (
    <div className={styles.legend} role="group" aria-label="Legend">
      {entries.map((e) => {
        const off = hidden?.includes(e.label) ?? false;
        return onToggle ? (
          <button type="button" key={e.label} className={styles.entry} aria-pressed={!off} onClick={() => onToggle(e.label)} title={off ? `Show ${e.label}` : `Hide ${e.label}`}>
            {swatch(e)}
            {e.label}
          </button>
        ) : (
          <span key={e.label} className={`${styles.entry} ${off ? styles.off : ""}`} title={off ? "not shown in this view" : undefined}>
            {swatch(e)}
            {e.label}
          </span>
        );
      })}
    </div>
  );
}
