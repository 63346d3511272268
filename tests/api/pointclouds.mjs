// pointclouds.mjs -- point-cloud files made in tests (PCD ascii, binary and
// binary_compressed, binary PLY, Scale-style JSON), shared by the API and browser tests.

/* points: [[x, y, z, i], ...] as a PCD file with fields x y z intensity. */
export function pcdAscii(points) {
  const head = `# .PCD v0.7\nVERSION 0.7\nFIELDS x y z intensity\nSIZE 4 4 4 4\nTYPE F F F F\nCOUNT 1 1 1 1\n` +
    `WIDTH ${points.length}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS ${points.length}\nDATA ascii\n`;
  return Buffer.from(head + points.map((p) => p.join(' ')).join('\n') + '\n');
}

/* A binary PCD of n points whose values point(k) gives as [x, y, z, i]
 * (float32 each); fields in the order intensity x y z with a padding
 * field, as tools write them. */
export function pcdBinary(n, point) {
  const head = Buffer.from(`# .PCD v0.7\nVERSION 0.7\nFIELDS intensity x y z _\nSIZE 4 4 4 4 1\nTYPE F F F F U\nCOUNT 1 1 1 1 4\n` +
    `WIDTH ${n}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS ${n}\nDATA binary\n`);
  const body = Buffer.alloc(n * 20);
  for (let k = 0; k < n; k++) {
    const [x, y, z, i] = point(k);
    body.writeFloatLE(i, 20 * k);
    body.writeFloatLE(x, 20 * k + 4);
    body.writeFloatLE(y, 20 * k + 8);
    body.writeFloatLE(z, 20 * k + 12);
  }
  return Buffer.concat([head, body]);
}

/* buf compressed as LZF (liblzf's format: a control byte below 32 starts
 * that many + 1 literals; otherwise its top 3 bits are a back-reference's
 * length - 2 (7: one more byte of length follows) and its low 5 bits with
 * the next byte the distance - 1).  Greedy, with a table of the last place
 * each 3 bytes were seen: not liblzf's output byte for byte, but a stream
 * it decompresses. */
export function lzf(buf) {
  const out = [], last = new Map();
  let lit = [], i = 0;
  const flush = () => {
    for (let k = 0; k < lit.length; k += 32) {
      const run = lit.slice(k, k + 32);
      out.push(run.length - 1, ...run);
    }
    lit = [];
  };
  while (i < buf.length) {
    const key = i + 2 < buf.length ? (buf[i] << 16) | (buf[i + 1] << 8) | buf[i + 2] : -1;
    const ref = key >= 0 ? last.get(key) : undefined;
    if (key >= 0) last.set(key, i);
    if (ref !== undefined && i - ref <= 8192) {
      let len = 3;
      while (len < 264 && i + len < buf.length && buf[ref + len] === buf[i + len]) len++;
      flush();
      const off = i - ref - 1, l = len - 2;
      if (l < 7) out.push((l << 5) | (off >> 8), off & 255);
      else out.push((7 << 5) | (off >> 8), l - 7, off & 255);
      i += len;
    } else {
      lit.push(buf[i++]);
    }
  }
  flush();
  return Buffer.from(out);
}

/* The cloud of pcdBinary(n, point) as PCL's DATA binary_compressed: the
 * same fields, the record's bytes rearranged into columns (every point's
 * first field, then every point's second, ...), LZF-compressed after the
 * compressed and uncompressed sizes. */
export function pcdCompressed(n, point) {
  const bin = pcdBinary(n, point), head = bin.subarray(0, bin.length - 20 * n), rec = bin.subarray(head.length);
  const cols = Buffer.alloc(20 * n), fields = [[0, 4], [4, 4], [8, 4], [12, 4], [16, 4]];
  let at = 0;
  for (const [off, size] of fields)
    for (let k = 0; k < n; k++, at += size) rec.copy(cols, at, 20 * k + off, 20 * k + off + size);
  const z = lzf(cols), sizes = Buffer.alloc(8);
  sizes.writeUInt32LE(z.length, 0);
  sizes.writeUInt32LE(cols.length, 4);
  return Buffer.concat([Buffer.from(head.toString().replace('DATA binary\n', 'DATA binary_compressed\n')), sizes, z]);
}

/* points as a binary big-endian PLY with a face element after the vertices. */
export function plyBinary(points) {
  const head = Buffer.from(`ply\nformat binary_big_endian 1.0\nelement vertex ${points.length}\nproperty float x\n` +
    `property float y\nproperty float z\nproperty float intensity\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n`);
  const body = Buffer.alloc(points.length * 16 + 13);
  points.forEach((p, k) => p.forEach((v, j) => body.writeFloatBE(v, 16 * k + 4 * j)));
  body.writeUInt8(3, points.length * 16);
  return Buffer.concat([head, body]);
}

/* points as Scale-style JSON. */
export function scaleJson(points) {
  return Buffer.from(JSON.stringify({ points: points.map(([x, y, z, i]) => ({ x, y, z, i })), device_position: { x: 0, y: 0, z: 0 } }));
}

/* The body of GET /v1/files/{sha}/points as [[x, y, z, i], ...]. */
export function readPoints(buf) {
  const out = [];
  for (let k = 0; k + 16 <= buf.length; k += 16) out.push([0, 4, 8, 12].map((o) => buf.readFloatLE(k + o)));
  return out;
}
