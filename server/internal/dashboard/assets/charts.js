// Small hand-written SVG charts for the dashboard: time series as lines (gaps
// where a bucket has no value) or stacked bars, with a y axis of round numbers,
// time labels, a legend, and one hover band per bucket whose <title> lists the
// values. No dependency, no inline style: colours come from style.css classes
// (s0 … s7), sizes from the figure's width at render time.

// The SVG namespace: a name, never fetched.
const SVG_NS = 'http://www.w3.org/2000/svg';
const HEIGHT = 190;
const MARGIN = { top: 10, right: 10, bottom: 24, left: 52 };
export const PALETTE_SIZE = 8;

function svgEl(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

// A round step near x: 1, 2, 2.5 or 5 times a power of ten.
function niceStep(x) {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  const m = x / p;
  const f = m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10;
  return f * p;
}

// The y axis: 0 … a round maximum, in about four steps.
export function yTicks(max) {
  if (!(max > 0)) return { max: 1, ticks: [0, 0.5, 1] };
  const step = niceStep(max / 4);
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { max: top, ticks };
}

// 1234 → "1.2k"; small values keep up to two decimals.
export function compact(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  const a = Math.abs(v);
  if (a >= 1e9) return `${trim(v / 1e9)}G`;
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e4) return `${trim(v / 1e3)}k`;
  if (a >= 100 || Number.isInteger(v)) return String(Math.round(v));
  return trim(v);
}

function trim(v) {
  return String(Number(v.toFixed(Math.abs(v) >= 10 ? 1 : 2)));
}

function clock(d) {
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

// The frame shared by both kinds: the svg, y grid and labels, x labels.
function frame(width, times, yMax, ticks, label) {
  const svg = svgEl('svg', {
    width,
    height: HEIGHT,
    viewBox: `0 0 ${width} ${HEIGHT}`,
    role: 'img',
    'aria-label': label,
    class: 'plot',
  });
  const pw = width - MARGIN.left - MARGIN.right;
  const ph = HEIGHT - MARGIN.top - MARGIN.bottom;
  const y = (v) => MARGIN.top + ph - (v / yMax) * ph;
  const grid = svgEl('g', { class: 'grid', 'aria-hidden': 'true' });
  for (const t of ticks) {
    grid.append(svgEl('line', { x1: MARGIN.left, x2: width - MARGIN.right, y1: y(t), y2: y(t) }));
    grid.append(svgEl('text', { x: MARGIN.left - 6, y: y(t) + 4, 'text-anchor': 'end' }, compact(t)));
  }
  const n = Math.max(times.length, 1);
  const bw = pw / n;
  // A time label at least every ~80 px, on buckets evenly spaced.
  const every = Math.max(1, Math.ceil(80 / bw));
  for (let i = 0; i < times.length; i += every) {
    const x = MARGIN.left + (i + 0.5) * bw;
    grid.append(svgEl('text', { x, y: HEIGHT - 6, 'text-anchor': 'middle' }, clock(times[i])));
  }
  svg.append(grid);
  return { svg, pw, ph, bw, y };
}

// Hover bands: one per bucket, with the bucket's values in a <title>.
function bands(svg, times, series, bw, ph, format) {
  const g = svgEl('g', { class: 'bands' });
  times.forEach((t, i) => {
    const r = svgEl('rect', { x: MARGIN.left + i * bw, y: MARGIN.top, width: Math.max(bw, 1), height: ph });
    const parts = series.map((s) => `${s.name}: ${s.values[i] === null ? '–' : format(s.values[i])}`);
    r.append(svgEl('title', {}, `${clock(t)} — ${parts.join(', ')}`));
    g.append(r);
  });
  svg.append(g);
}

function lineSVG(width, { times, series, format, label }) {
  const all = series.flatMap((s) => s.values).filter((v) => v !== null && v !== undefined);
  const { max, ticks } = yTicks(Math.max(0, ...all));
  const { svg, ph, bw, y } = frame(width, times, max, ticks, label);
  series.forEach((s, k) => {
    const cls = `s${(s.color ?? k) % PALETTE_SIZE}`;
    let d = '';
    let open = false;
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) {
        open = false;
        return;
      }
      const x = MARGIN.left + (i + 0.5) * bw;
      d += `${open ? 'L' : 'M'}${x.toFixed(1)} ${y(v).toFixed(1)}`;
      // A value alone between gaps is a dot, not an invisible segment.
      const prev = s.values[i - 1];
      const next = s.values[i + 1];
      if ((prev === null || prev === undefined) && (next === null || next === undefined)) {
        svg.append(svgEl('circle', { class: `dot ${cls}`, cx: x.toFixed(1), cy: y(v).toFixed(1), r: 2.5 }));
      }
      open = true;
    });
    if (d) svg.append(svgEl('path', { class: `line ${cls}`, d }));
  });
  bands(svg, times, series, bw, ph, format);
  return svg;
}

function stackedSVG(width, { times, series, format, label }) {
  const sums = times.map((_, i) => series.reduce((a, s) => a + (s.values[i] ?? 0), 0));
  const { max, ticks } = yTicks(Math.max(0, ...sums));
  const { svg, ph, bw, y } = frame(width, times, max, ticks, label);
  const barW = Math.max(1, bw * 0.78);
  times.forEach((_, i) => {
    let base = 0;
    series.forEach((s, k) => {
      const v = s.values[i] ?? 0;
      if (v <= 0) return;
      const top = y(base + v);
      const h = y(base) - top;
      svg.append(
        svgEl('rect', {
          class: `bar s${(s.color ?? k) % PALETTE_SIZE}`,
          x: (MARGIN.left + i * bw + (bw - barW) / 2).toFixed(1),
          y: top.toFixed(1),
          width: barW.toFixed(1),
          height: Math.max(h, 0.5).toFixed(1),
        }),
      );
      base += v;
    });
  });
  bands(svg, times, series, bw, ph, format);
  return svg;
}

function legendEl(series) {
  const ul = document.createElement('ul');
  ul.className = 'legend';
  series.forEach((s, k) => {
    const li = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = `swatch s${(s.color ?? k) % PALETTE_SIZE}`;
    sw.setAttribute('aria-hidden', 'true');
    li.append(sw, document.createTextNode(s.name));
    ul.append(li);
  });
  return ul;
}

// Draws a chart into figure (its <figcaption> stays), replacing the last one.
//   kind: 'line' | 'stacked'
//   times: Date per bucket; series: [{ name, values: (number|null)[], color? }]
//   format(v): a value for the hover titles; label: the svg's accessible name.
export function render(figure, { kind = 'line', times, series, format = compact, label = '', empty = '' }) {
  for (const old of figure.querySelectorAll('svg, .legend, .chart-note')) old.remove();
  const width = Math.max(240, Math.floor(figure.clientWidth || 560) - 2);
  const opts = { times, series, format, label };
  const svg = kind === 'stacked' ? stackedSVG(width, opts) : lineSVG(width, opts);
  figure.append(svg);
  if (series.length) figure.append(legendEl(series));
  if (empty) {
    const p = document.createElement('p');
    p.className = 'chart-note';
    p.textContent = empty;
    figure.append(p);
  }
}
