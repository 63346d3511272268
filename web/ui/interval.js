// interval.js -- a value with its confidence interval, drawn as a small
// bar: a track, the interval as a band and the value as a dot, each bar of
// a table on one scale so that intervals can be compared by eye.  Used by
// the leaderboard (ratings on the Elo scale) and the reports (rates from 0
// to 1).  Geometry is in attributes and colours in llm.css (.iv-*): the
// CSP allows no inline style.  Every bar has a text alternative.
//
//   const sc = linearScale(0, 1);
//   intervalBar({ value: 0.6, lower: 0.3, upper: 0.85, scale: sc, label: 'model a: 60%, ...' })

import { h, svg } from './dom.js';
import { DASH } from './quality.js';

/* The bar's size: width and height in px, and the room at either end. */
export const IV = { w: 200, h: 18, pad: 6 };

/* A scale from lo..hi onto a bar w px wide: {lo, hi, w, x(v)}. */
export function linearScale(lo, hi, w = IV.w) {
  return { lo, hi, w, x: (v) => IV.pad + ((w - 2 * IV.pad) * (v - lo)) / (hi - lo) };
}

/* An SVG bar of value with its interval lower..upper on scale (from
 * linearScale, whose width it takes); label is its text alternative (aria-label and a title).
 * ticks: values on the scale marked across the bar (for a rate, 0.5).
 * Without a finite value, a dash; without an interval, the dot alone. */
export function intervalBar({ value, lower, upper, scale, label, ticks = [] }) {
  if (!scale || !Number.isFinite(value)) return h('span', { class: 'muted' }, DASH);
  const has = Number.isFinite(lower) && Number.isFinite(upper);
  const mid = IV.h / 2;
  const { x, w } = scale;
  return svg(
    'svg',
    { class: 'iv-bar', width: w, height: IV.h, viewBox: `0 0 ${w} ${IV.h}`, role: 'img', 'aria-label': label },
    svg('title', null, label),
    svg('line', { class: 'iv-track', x1: IV.pad, x2: w - IV.pad, y1: mid, y2: mid }),
    has ? svg('rect', { class: 'iv-range', 'data-lower': lower, 'data-upper': upper, x: x(lower).toFixed(1), y: mid - 4, width: Math.max(1, x(upper) - x(lower)).toFixed(1), height: 8, rx: 2 }) : null,
    ticks.map((t) => svg('line', { class: 'iv-tick', x1: x(t).toFixed(1), x2: x(t).toFixed(1), y1: mid - 6, y2: mid + 6 })),
    svg('circle', { class: 'iv-point', cx: x(value).toFixed(1), cy: mid, r: 4 }),
  );
}
