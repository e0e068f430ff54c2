// CRC-64 as Go's hash/crc64 with the ECMA table computes it (CRC-64/XZ: reflected polynomial
// 0xC96C5795D7870F42, initial and final value all ones): the checksum a mongodump archive gives each
// collection in its EOF header, and that mongorestore checks. Kept in two 32-bit halves: number
// arithmetic is several times as fast as BigInt for a byte loop.

const POLY_HI = 0xc96c5795;
const POLY_LO = 0xd7870f42;
const TABLE_HI = new Uint32Array(256);
const TABLE_LO = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let hi = 0;
  let lo = i;
  for (let bit = 0; bit < 8; bit++) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi >>>= 1;
    if (carry) {
      hi = (hi ^ POLY_HI) >>> 0;
      lo = (lo ^ POLY_LO) >>> 0;
    }
  }
  TABLE_HI[i] = hi;
  TABLE_LO[i] = lo;
}

export class Crc64 {
  // The register, inverted (Go inverts before and after each update; keeping it inverted is the same).
  #hi = 0xffffffff;
  #lo = 0xffffffff;

  update(bytes: Uint8Array): this {
    let hi = this.#hi;
    let lo = this.#lo;
    for (let i = 0; i < bytes.length; i++) {
      const index = (lo ^ (bytes[i] as number)) & 0xff;
      lo = ((lo >>> 8) | ((hi & 0xff) << 24)) ^ (TABLE_LO[index] as number);
      hi = (hi >>> 8) ^ (TABLE_HI[index] as number);
    }
    this.#hi = hi >>> 0;
    this.#lo = lo >>> 0;
    return this;
  }

  /** The checksum as the signed 64-bit integer the archive stores (Go's int64 of the uint64 sum). */
  signed(): bigint {
    const unsigned = (BigInt((~this.#hi >>> 0) >>> 0) << 32n) | BigInt((~this.#lo >>> 0) >>> 0);
    return BigInt.asIntN(64, unsigned);
  }
}
