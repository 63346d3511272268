// pointclouds.mjs -- point-cloud files made in tests (PCD ascii and binary,
// binary PLY, Scale-style JSON), shared by the API and browser tests.

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
