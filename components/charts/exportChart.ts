/**
 * A chart on the page as a standalone SVG or PNG file: its title, units, legend and every
 * chart surface inside it, laid out as on screen. Legends are HTML on the page, so the
 * legend is redrawn here from the same entries the page shows: the exported figure
 * explains itself. Used by every chart (run page, compare page, inspector) via ChartFrame.
 */
export interface LegendEntry {
  label: string;
  color: string;
  /** A dashed line, a translucent bar, ... as the chart draws it. */
  dashed?: boolean;
  opacity?: number;
}

const SVG_NS = "http://www.w3.org/2000/svg";
const FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif";
const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The charts inside `container` as one SVG document (a string): the title, the units (if
 * any), the legend, then every chart surface (Recharts' or our own `svg.chart-svg`, e.g.
 * small multiples) where it sits on screen, with the labels marked `data-export-label`.
 */
export function chartSvg(container: HTMLElement, title: string, legend: readonly LegendEntry[], units = ""): { svg: string; width: number; height: number } {
  const box = container.getBoundingClientRect();
  // Recharts also draws legend icons as svg.recharts-surface: those are not charts.
  const surfaces = [...container.querySelectorAll<SVGSVGElement>("svg.recharts-surface, svg.chart-svg")].filter((s) => !s.closest(".recharts-legend-wrapper"));
  const labels = [...container.querySelectorAll<HTMLElement>("[data-export-label]")];
  const width = Math.max(320, Math.ceil(box.width));
  const top = units ? 48 : 30;
  const header = top + (legend.length ? 24 * legendRows(legend, width) : 0);
  let bottom = 0;
  const parts: string[] = [];
  for (const surface of surfaces) {
    const r = surface.getBoundingClientRect();
    const clone = surface.cloneNode(true) as SVGSVGElement;
    clone.removeAttribute("style");
    clone.removeAttribute("class");
    clone.setAttribute("x", String(Math.round(r.left - box.left)));
    clone.setAttribute("y", String(Math.round(r.top - box.top) + header));
    clone.setAttribute("width", String(Math.round(r.width)));
    clone.setAttribute("height", String(Math.round(r.height)));
    parts.push(new XMLSerializer().serializeToString(clone));
    bottom = Math.max(bottom, Math.round(r.bottom - box.top));
  }
  for (const label of labels) {
    const r = label.getBoundingClientRect();
    parts.push(`<text x="${Math.round(r.left - box.left)}" y="${Math.round(r.top - box.top) + header + 12}" font-weight="600" fill="#1d2330">${escapeXml(label.dataset.exportLabel ?? label.textContent ?? "")}</text>`);
    bottom = Math.max(bottom, Math.round(r.bottom - box.top));
  }
  const height = header + Math.max(bottom, 40) + 8;
  const svg = [
    `<svg xmlns="${SVG_NS}" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="12" y="20" font-size="15" font-weight="600" fill="#1d2330">${escapeXml(title)}</text>`,
    units ? `<text x="12" y="38" fill="#5f6b7a">${escapeXml(units)}</text>` : "",
    ...legendSvg(legend, width, top + 14),
    ...parts,
    surfaces.length ? "" : `<text x="12" y="${header + 20}" fill="#5f6b7a">no data yet</text>`,
    `</svg>`,
  ].join("\n");
  return { svg, width, height };
}

const ENTRY_WIDTH = (e: LegendEntry) => 28 + e.label.length * 7 + 16;

function legendRows(legend: readonly LegendEntry[], width: number): number {
  let rows = 1;
  let x = 12;
  for (const e of legend) {
    if (x + ENTRY_WIDTH(e) > width && x > 12) { rows += 1; x = 12; }
    x += ENTRY_WIDTH(e);
  }
  return rows;
}

function legendSvg(legend: readonly LegendEntry[], width: number, top: number): string[] {
  const out: string[] = [];
  let x = 12;
  let y = top;
  for (const e of legend) {
    if (x + ENTRY_WIDTH(e) > width && x > 12) { x = 12; y += 24; }
    const opacity = e.opacity ?? 1;
    out.push(
      e.dashed
        ? `<line x1="${x}" y1="${y - 4}" x2="${x + 20}" y2="${y - 4}" stroke="${e.color}" stroke-width="3" stroke-dasharray="5 3"/>`
        : `<rect x="${x}" y="${y - 10}" width="20" height="12" rx="2" fill="${e.color}" fill-opacity="${opacity}"/>`,
      `<text x="${x + 26}" y="${y}" fill="#1d2330">${escapeXml(e.label)}</text>`,
    );
    x += ENTRY_WIDTH(e);
  }
  return out;
}

/** Renders an SVG document to a PNG at `scale` times its size. */
export async function svgToPng(svg: string, width: number, height: number, scale = 2): Promise<Blob> {
  const image = new Image();
  const loaded = new Promise<void>((resolve, reject) => {
    image.onload = () => resolve();
    image.onerror = () => reject(new Error("the browser could not draw the chart's SVG"));
  });
  image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  await loaded;
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const context = canvas.getContext("2d");
  if (!context) throw new Error("this browser has no 2D canvas to draw a PNG on");
  context.scale(scale, scale);
  context.drawImage(image, 0, 0, width, height);
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("the browser could not encode the PNG"))), "image/png"),
  );
}

/** A file-name-safe slug: "IMP vs Random" -> "imp-vs-random". */
export const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 60) || "certprune";

/** Saves `data` under `filename` through the browser's download. */
export function downloadBlob(filename: string, data: Blob | string, type = "text/plain"): void {
  const blob = typeof data === "string" ? new Blob([data], { type: `${type};charset=utf-8` }) : data;
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.style.display = "none";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
