// Live plots of numeric and boolean properties (uPlot, which the page loads as `uplot.js`),
// seeded from each property's value history and extended by every value the WebSocket
// brings.

import { el, schemaType } from './forms.js';

/** Points a plot keeps (the latest). */
const MAX_POINTS = 2000;
const HEIGHT = 120;

/** Whether a property of this schema is plotted: numbers, integers and booleans. */
export function plots(property) {
  const type = schemaType(property);
  return type === 'number' || type === 'integer' || type === 'boolean';
}

/** A value as a plotted number: booleans as 0 and 1, anything else a gap. */
function plotted(value) {
  if (typeof value === 'boolean') return value ? 1 : 0;
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Seconds since the Unix epoch of an RFC 3339 time (now, when there is none). */
function seconds(timestamp) {
  const ms = timestamp === undefined ? NaN : Date.parse(timestamp);
  return (Number.isNaN(ms) ? Date.now() : ms) / 1000;
}

/** The plot of one property. Its uPlot instance is `element.uplot`. */
export class PropertyPlot {
  /** `api(url)` reads JSON from the server, with the page's token. */
  constructor(name, property, historyUrl, api) {
    this.boolean = schemaType(property) === 'boolean';
    this.label = property.unit ? `${property.title ?? name} (${property.unit})` : (property.title ?? name);
    this.historyUrl = historyUrl;
    this.api = api;
    this.times = [];
    this.values = [];
    this.uplot = null;
    this.element = el('div', { class: 'plot', 'data-plot': name });
  }

  /** Draw the plot (once the element is on the page), then seed it from the history. */
  async start() {
    if (typeof uPlot !== 'function') {
      this.element.replaceChildren(el('span', { class: 'unit', text: 'no plot: uplot.js did not load' }));
      return;
    }
    this.uplot = new uPlot(this.options(), [this.times, this.values], this.element);
    this.element.uplot = this.uplot;
    new ResizeObserver(() => this.resize()).observe(this.element);
    await this.seed();
  }

  options() {
    const boolean = this.boolean;
    return {
      width: this.width(),
      height: HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: boolean ? { range: [-0.1, 1.1] } : { auto: true } },
      axes: [
        {},
        {
          size: 56,
          ...(boolean ? { splits: [0, 1], values: (_, ticks) => ticks.map((t) => (t ? 'true' : 'false')) } : {}),
        },
      ],
      series: [
        {},
        {
          label: this.label,
          stroke: '#2563eb',
          width: 1.5,
          spanGaps: false,
          points: { show: (u) => u.data[0].length < 50 },
          ...(boolean ? { paths: uPlot.paths.stepped({ align: 1 }) } : {}),
        },
      ],
    };
  }

  width() {
    return Math.max(200, Math.floor(this.element.clientWidth || 320));
  }

  resize() {
    if (this.uplot && this.uplot.width !== this.width()) this.uplot.setSize({ width: this.width(), height: HEIGHT });
  }

  /**
   * The values published before the page opened, from `GET …/history`; values that arrived
   * while it loaded and are newer stay. Without a history (the server keeps none for this
   * property), the plot starts with what arrives live.
   */
  async seed() {
    let history;
    try {
      history = await this.api(`${this.historyUrl}?limit=${MAX_POINTS}`);
    } catch {
      this.element.dataset.history = 'none';
      return;
    }
    const times = history.samples.map((sample) => seconds(sample.time));
    const values = history.samples.map((sample) => plotted(sample.value));
    const last = times.length > 0 ? times[times.length - 1] : -Infinity;
    this.times.forEach((time, i) => {
      if (time > last) {
        times.push(time);
        values.push(this.values[i]);
      }
    });
    this.times = times;
    this.values = values;
    this.element.dataset.history = 'seeded';
    this.redraw();
  }

  /** A value published at `timestamp`. */
  add(value, timestamp) {
    const time = seconds(timestamp);
    // Out-of-order times (a clock step) would fold the line back: keep the x axis ascending.
    const last = this.times[this.times.length - 1];
    this.times.push(last !== undefined && time < last ? last : time);
    this.values.push(plotted(value));
    this.redraw();
  }

  redraw() {
    if (this.times.length > MAX_POINTS) {
      this.times.splice(0, this.times.length - MAX_POINTS);
      this.values.splice(0, this.values.length - MAX_POINTS);
    }
    this.uplot?.setData([this.times, this.values]);
  }
}
