// Decompression bombs and odd zips, built in memory by the tests (nothing huge touches the disk):
// a 20000×20000 RGB PNG in about a megabyte, a zip whose one entry declares 1.9 GB, a zip of more
// than 65,535 entries written without ZIP64. The deflate data is one sync-flushed block of zeros
// repeated: each block ends byte-aligned and refers only to zeros, so copies chain into a valid
// stream of any length without ever holding the inflated bytes.
import { deflateRawSync, constants } from 'node:zlib';

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(...parts: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const b of parts) for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Raw deflate of `total` zero bytes, as `total / block` copies of one block (block must divide total). */
export function deflatedZeros(total: number, block: number): Uint8Array {
  if (total % block !== 0) throw new Error('block must divide total');
  const one = new Uint8Array(deflateRawSync(Buffer.alloc(block), { level: 9, finishFlush: constants.Z_SYNC_FLUSH }));
  const copies = total / block;
  const out = new Uint8Array(one.length * copies + 2);
  for (let i = 0; i < copies; i++) out.set(one, i * one.length);
  // The last block: empty, final, fixed Huffman (BFINAL=1, BTYPE=01, end-of-block code).
  out.set([0x03, 0x00], one.length * copies);
  return out;
}

const be32 = (v: number) => Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);

function chunk(type: string, data: Uint8Array): Uint8Array {
  const t = new TextEncoder().encode(type);
  return concat([be32(data.length), t, data, be32(crc32(t, data))]);
}

/**
 * An 8-bit RGB PNG of width×height black pixels that every decoder accepts (valid CRCs and
 * Adler-32): 20000×20000 is 1.2 GB of scanlines (1.6 GB as RGBA) in about 1 MB.
 */
export function pngBomb(width: number, height: number): Uint8Array {
  const row = 1 + width * 3;
  let rowsPerBlock = 1;
  for (let r = Math.min(height, Math.max(1, Math.floor(8e6 / row))); r >= 1; r--) {
    if (height % r === 0) {
      rowsPerBlock = r;
      break;
    }
  }
  const total = row * height;
  const deflated = deflatedZeros(total, row * rowsPerBlock);
  // Adler-32 of zeros: A stays 1, B adds 1 per byte.
  const adler = (((total % 65521) << 16) | 1) >>> 0;
  const zlib = concat([Uint8Array.of(0x78, 0xda), deflated, be32(adler)]);
  const ihdr = concat([be32(width), be32(height), Uint8Array.of(8, 2, 0, 0, 0)]);
  return concat([
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib),
    chunk('IEND', new Uint8Array()),
  ]);
}

export interface ZipEntry {
  name: string;
  /** Stored bytes (method 0), or deflated zeros of a declared size (method 8). */
  data: Uint8Array;
  method?: 0 | 8;
  /** The uncompressed size written in the headers (for method 8). */
  size?: number;
  crc?: number;
}

const le16 = (v: number) => Uint8Array.of(v & 255, (v >>> 8) & 255);
const le32 = (v: number) => Uint8Array.of(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255);

/**
 * A zip without ZIP64 records, as many tools write it: the end record's entry count is 16 bits,
 * so more than 65,535 entries are declared modulo 65,536 (100,000 reads as 34,464).
 */
export function zipOf(entries: readonly ZipEntry[]): Uint8Array {
  const local: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = new TextEncoder().encode(e.name);
    const method = e.method ?? 0;
    const size = e.size ?? e.data.length;
    const crc = e.crc ?? (method === 0 ? crc32(e.data) : 0);
    const common = [
      le16(20),
      le16(0x0800),
      le16(method),
      le16(0),
      le16(0x21),
      le32(crc),
      le32(e.data.length),
      le32(size),
      le16(name.length),
    ];
    const header = concat([le32(0x04034b50), ...common, le16(0), name]);
    local.push(header, e.data);
    central.push(concat([le32(0x02014b50), le16(20), ...common, le16(0), le16(0), le16(0), le16(0), le32(0), le32(offset), name]));
    offset += header.length + e.data.length;
  }
  const cd = concat(central);
  const n = entries.length & 0xffff;
  const end = concat([le32(0x06054b50), le16(0), le16(0), le16(n), le16(n), le32(cd.length), le32(offset), le16(0)]);
  return concat([...local, cd, end]);
}
