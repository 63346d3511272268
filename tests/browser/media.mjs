// media.mjs -- small media files made in the tests (nothing is fetched or
// checked in): a PNG of any picture, a WAV of tone bursts, and their upload
// to Loupe's file store.
import assert from 'node:assert/strict';
import zlib from 'node:zlib';

/* CRC-32 of a PNG chunk (zlib.crc32 where Node has it). */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  if (typeof zlib.crc32 === 'function') return zlib.crc32(buf) >>> 0;
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/* A w x h RGB PNG; pixel(x, y) -> [r, g, b] (default: grey). */
export function png(w, h, pixel = () => [153, 153, 153]) {
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    const row = y * (w * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < w; x++) {
      const [r, g, b] = pixel(x, y);
      raw[row + 1 + x * 3] = r;
      raw[row + 2 + x * 3] = g;
      raw[row + 3 + x * 3] = b;
    }
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/* A mono 16-bit PCM WAV of `seconds`: a tone of freq Hz during each
 * [from, to) of bursts, silence elsewhere. */
export function wav({ seconds = 3, rate = 8000, bursts = [[0, 3]], freq = 440 } = {}) {
  const n = Math.round(seconds * rate);
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16); // fmt chunk size
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28); // bytes a second
  buf.writeUInt16LE(2, 32); // bytes a frame
  buf.writeUInt16LE(16, 34); // bits a sample
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const on = bursts.some(([a, b]) => t >= a && t < b);
    buf.writeInt16LE(on ? Math.round(0.6 * 32767 * Math.sin(2 * Math.PI * freq * t)) : 0, 44 + i * 2);
  }
  return buf;
}

/* Uploads bytes to the server's file store (POST /v1/files); returns the
 * stored record {sha256, url, ...}. */
/* Uploads bytes as the admin; with projectId, linked to that project (its
 * members may read the file before a task names it). */
export async function upload(srv, bytes, type, filename = 'file', projectId = null) {
  const q = projectId ? `&project_id=${projectId}` : '';
  const r = await srv.api('POST', `/v1/files?filename=${encodeURIComponent(filename)}${q}`, bytes, { headers: { 'content-type': type } });
  assert.ok(r.status === 201 || r.status === 200, `POST /v1/files answered ${r.status}: ${r.text}`);
  return r.body;
}
