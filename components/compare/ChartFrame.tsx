"use client";
/** A titled chart panel with its units, legend and SVG / PNG export buttons. */
import { useEffect, useRef, useState, type ReactNode } from "react";
import { chartSvg, svgToPng, type LegendEntry } from "./chartExport";
import { download, slug } from "./download";

export function ChartFrame(props: {
  title: string;
  units: string;
  legend: LegendEntry[];
  children: ReactNode;
  /** Shown above the chart; defaults to a plain legend of `legend`. */
  legendNode?: ReactNode;
  caption?: ReactNode;
  testId?: string;
  /** Nothing drawn yet: no export buttons. */
  empty?: boolean;
  /**
   * Draw the chart only once it is scrolled near (or exported): charts below the first
   * screen then cost nothing when the page opens. `height` holds its place meanwhile.
   */
  lazy?: { height: number };
  className?: string;
  controls?: ReactNode;
  /** Extra data attributes for tests and for people reading the DOM. */
  data?: Record<string, string | number>;
}) {
  const body = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [shown, setShown] = useState(!props.lazy);
  useEffect(() => {
    if (shown || !body.current) return;
    const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && setShown(true), { rootMargin: "300px" });
    observer.observe(body.current);
    return () => observer.disconnect();
  }, [shown]);
  /** The chart drawn (mounting it first if it was waiting to be scrolled to). */
  const drawn = async () => {
    setShown(true);
    for (let i = 0; i < 60 && body.current && !body.current.querySelector("svg"); i++) await new Promise((r) => requestAnimationFrame(r));
    return chartSvg(body.current!, props.title, props.units, props.legend);
  };
  const file = slug(props.title);
  const saveSvg = async () => download(`${file}.svg`, (await drawn()).svg, "image/svg+xml");
  const savePng = async () => {
    try {
      const { svg, width, height } = await drawn();
      download(`${file}.png`, await svgToPng(svg, width, height));
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const dataAttributes = Object.fromEntries(Object.entries(props.data ?? {}).map(([k, v]) => [`data-${k}`, String(v)]));
  return (
    <section className={`chart-frame ${props.className ?? ""}`} data-testid={props.testId} aria-label={props.title} {...dataAttributes}>
      <header>
        <h2>{props.title}</h2>
        <span className="units">{props.units}</span>
        <div className="exports">
          {props.controls}
          {!props.empty && (
            <>
              <button type="button" className="secondary small" onClick={saveSvg} aria-label={`Download "${props.title}" as SVG`}>SVG</button>
              <button type="button" className="secondary small" onClick={savePng} aria-label={`Download "${props.title}" as PNG`}>PNG</button>
            </>
          )}
        </div>
      </header>
      {props.legendNode ?? <Legend entries={props.legend} />}
      {error && <div className="alert" role="alert">{error}</div>}
      <div ref={body} style={shown ? undefined : { minHeight: props.lazy!.height }}>{shown ? props.children : null}</div>
      {props.caption && <p className="caption">{props.caption}</p>}
    </section>
  );
}

/** A legend; with `onToggle`, each entry is a button that shows or hides its series. */
export function Legend({ entries, hidden, onToggle, line }: { entries: LegendEntry[]; hidden?: string[]; onToggle?: (label: string) => void; line?: boolean }) {
  return (
    <div className="legend" role="group" aria-label="Legend">
      {entries.map((e) =>
        onToggle ? (
          <button type="button" key={e.label} aria-pressed={!hidden?.includes(e.label)} onClick={() => onToggle(e.label)} title={hidden?.includes(e.label) ? `Show ${e.label}` : `Hide ${e.label}`}>
            <span className={`swatch${line ? " line" : ""}`} style={{ background: e.color }} />
            {e.label}
          </button>
        ) : (
          <span className="item" key={e.label}>
            <span className={`swatch${line ? " line" : ""}`} style={{ background: e.color }} />
            {e.label}
          </span>
        ),
      )}
    </div>
  );
}
