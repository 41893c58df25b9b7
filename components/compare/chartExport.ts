/**
 * A chart as a standalone SVG file (and PNG, drawn from that SVG on a canvas). Recharts
 * draws each chart as one <svg>; a frame may hold several (small multiples), so each is
 * placed where it sits on screen, under the frame's title, and the legend (HTML on the
 * page) is drawn into the file so that the exported figure explains itself.
 */

export interface LegendEntry {
  label: string;
  color: string;
}

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function chartSvg(body: HTMLElement, title: string, units: string, legend: LegendEntry[]): { svg: string; width: number; height: number } {
  const origin = body.getBoundingClientRect();
  const surfaces = [...body.querySelectorAll<SVGSVGElement>(".recharts-wrapper > svg.recharts-surface, svg.chart-svg")];
  const labels = [...body.querySelectorAll<HTMLElement>("[data-export-label]")];
  const pad = 16;
  const head = units ? 48 : 32;
  const width = Math.ceil(origin.width) + 2 * pad;
  const parts: string[] = [];
  let bottom = 0;
  for (const svg of surfaces) {
    const r = svg.getBoundingClientRect();
    const x = r.left - origin.left + pad;
    const y = r.top - origin.top + head;
    const clone = svg.cloneNode(true) as SVGSVGElement;
    clone.removeAttribute("style");
    clone.setAttribute("x", String(x));
    clone.setAttribute("y", String(y));
    clone.setAttribute("width", String(r.width));
    clone.setAttribute("height", String(r.height));
    parts.push(new XMLSerializer().serializeToString(clone));
    bottom = Math.max(bottom, y + r.height);
  }
  for (const label of labels) {
    const r = label.getBoundingClientRect();
    parts.push(`<text x="${r.left - origin.left + pad}" y="${r.top - origin.top + head + 12}" font-size="12" font-weight="600" fill="#1d2330">${escape(label.dataset.exportLabel ?? label.textContent ?? "")}</text>`);
    bottom = Math.max(bottom, r.bottom - origin.top + head);
  }
  // The legend flows in rows under the charts.
  let lx = pad;
  let ly = bottom + 22;
  for (const entry of legend) {
    const w = 26 + entry.label.length * 7;
    if (lx + w > width - pad) {
      lx = pad;
      ly += 20;
    }
    parts.push(`<rect x="${lx}" y="${ly - 9}" width="12" height="12" rx="2" fill="${escape(entry.color)}"/>`);
    parts.push(`<text x="${lx + 17}" y="${ly + 1}" font-size="12" fill="#1d2330">${escape(entry.label)}</text>`);
    lx += w;
  }
  const height = Math.ceil(legend.length ? ly + 14 : bottom + pad);
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${pad}" y="22" font-size="15" font-weight="700" fill="#1d2330">${escape(title)}</text>`,
    units ? `<text x="${pad}" y="40" font-size="12" fill="#5f6b7a">${escape(units)}</text>` : "",
    ...parts,
    `</svg>`,
  ].join("\n");
  return { svg, width, height };
}

/** The SVG drawn at `scale` times its size on a white canvas, as a PNG blob. */
export function svgToPng(svg: string, width: number, height: number, scale = 2): Promise<Blob> {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => {
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(height * scale);
      const ctx = canvas.getContext("2d");
      if (!ctx) return reject(new Error("this browser cannot draw on a canvas"));
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.scale(scale, scale);
      ctx.drawImage(image, 0, 0, width, height);
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("the chart could not be turned into a PNG"))), "image/png");
    };
    image.onerror = () => reject(new Error("the chart's SVG could not be drawn"));
    image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  });
}
