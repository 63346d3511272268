// rle.js -- COCO run-length encoding of masks, as src/rle.c writes it, so
// that what the segmentation editor sends is byte for byte what the server
// stores and exports: pixels in column-major order (down each column, then
// the next), counts alternating runs of 0s and 1s starting with 0s, and the
// compressed string of pycocotools' rleToString (each count after the
// second as the difference from the count two before, in 5-bit groups,
// least significant first, 48 + group, 0x20 on every group but the last,
// whose 0x10 bit is the sign).  No DOM: the tests import it in Node.

/* The compressed string of counts (an array of non-negative integers). */
export function encodeCounts(counts) {
  let s = '';
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i];
    if (i > 2) x -= counts[i - 2];
    // Counts are below 2^28, so x fits 32-bit arithmetic shifts.
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x >>= 5;
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      s += String.fromCharCode(c + 48);
    }
  }
  return s;
}

/* The counts of a compressed string, or null when it is malformed. */
export function decodeCounts(s) {
  const out = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length || k >= 7) return null;
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) return null;
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && c & 0x10) x -= 2 ** (5 * k);
    }
    if (out.length > 2) x += out[out.length - 2];
    if (x < 0) return null;
    out.push(x);
  }
  return out;
}

/* The counts of a COCO rle object {size: [h, w], counts} (a string or a
 * list) when they add up to h * w, or null. */
export function rleCounts(rle, h, w) {
  if (!rle || typeof rle !== 'object') return null;
  const counts = typeof rle.counts === 'string' ? decodeCounts(rle.counts) : Array.isArray(rle.counts) ? rle.counts : null;
  if (!counts || !counts.every((c) => Number.isInteger(c) && c >= 0)) return null;
  return counts.reduce((a, b) => a + b, 0) === h * w ? counts : null;
}

/* Writes value into the pixels of map (row-major, w x h) that counts'
 * runs of 1s cover. */
export function paintCounts(map, w, h, counts, value) {
  let pos = 0;
  for (let i = 0; i < counts.length; i++) {
    const end = pos + counts[i];
    if (i % 2) for (let p = pos; p < end; p++) map[(p % h) * w + ((p / h) | 0)] = value;
    pos = end;
  }
}

/* The counts of every value 1..n of a label map (row-major, w x h, 0 is
 * background), in one column-major pass: result[v - 1] is value v's
 * counts, or null when no pixel has it. */
export function labelMapCounts(map, w, h, n) {
  const counts = Array.from({ length: n }, () => []);
  const last = new Array(n).fill(0); // where value v's last run of 1s ends
  let pos = 0;
  let cur = 0;
  let start = 0;
  const flush = (end) => {
    if (!cur) return;
    const c = counts[cur - 1];
    if (c.length && last[cur - 1] === start) c[c.length - 1] += end - start;
    else c.push(start - last[cur - 1], end - start);
    last[cur - 1] = end;
  };
  for (let x = 0; x < w; x++) {
    for (let y = 0, i = x; y < h; y++, i += w, pos++) {
      const v = map[i];
      if (v !== cur) {
        flush(pos);
        cur = v;
        start = pos;
      }
    }
  }
  flush(pos);
  return counts.map((c, i) => {
    if (!c.length) return null;
    if (last[i] < w * h) c.push(w * h - last[i]);
    return c;
  });
}
