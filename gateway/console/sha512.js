/* sha512.js — SHA-512 of a text as lowercase hex (ZStack sends password hashes, not
 * passwords). Uses WebCrypto where the page may (https, localhost); plain BigInt arithmetic
 * elsewhere (a console opened over http on another host). Constants are derived, not typed:
 * fractional bits of square and cube roots of the first primes (FIPS 180-4 §4.2.3, §5.3.5). */
"use strict";

const Sha512 = (() => {
  const M = (1n << 64n) - 1n;

  function iroot(n, k) {   /* floor(n^(1/k)) by Newton's method */
    let x = 1n << BigInt(Math.ceil(n.toString(2).length / k) + 1);
    for (;;) {
      const y = ((BigInt(k) - 1n) * x + n / x ** (BigInt(k) - 1n)) / BigInt(k);
      if (y >= x) return x;
      x = y;
    }
  }
  const primes = [];
  for (let n = 2; primes.length < 80; n++) if (primes.every(p => n % p)) primes.push(n);
  const K = primes.map(p => iroot(BigInt(p) << 192n, 3) & M);
  const H0 = primes.slice(0, 8).map(p => iroot(BigInt(p) << 128n, 2) & M);

  const rotr = (x, n) => ((x >> BigInt(n)) | (x << BigInt(64 - n))) & M;

  function fallback(bytes) {
    const len = bytes.length, padded = new Uint8Array(((len + 17 + 127) >> 7) << 7);
    padded.set(bytes);
    padded[len] = 0x80;
    const view = new DataView(padded.buffer);
    view.setBigUint64(padded.length - 8, BigInt(len) * 8n);
    const h = H0.slice(), w = new Array(80);
    for (let off = 0; off < padded.length; off += 128) {
      for (let t = 0; t < 16; t++) w[t] = view.getBigUint64(off + t * 8);
      for (let t = 16; t < 80; t++) {
        const s0 = rotr(w[t - 15], 1) ^ rotr(w[t - 15], 8) ^ (w[t - 15] >> 7n);
        const s1 = rotr(w[t - 2], 19) ^ rotr(w[t - 2], 61) ^ (w[t - 2] >> 6n);
        w[t] = (w[t - 16] + s0 + w[t - 7] + s1) & M;
      }
      let [a, b, c, d, e, f, g, k] = h;
      for (let t = 0; t < 80; t++) {
        const t1 = (k + (rotr(e, 14) ^ rotr(e, 18) ^ rotr(e, 41)) + ((e & f) ^ (~e & M & g)) + K[t] + w[t]) & M;
        const t2 = ((rotr(a, 28) ^ rotr(a, 34) ^ rotr(a, 39)) + ((a & b) ^ (a & c) ^ (b & c))) & M;
        [k, g, f, e, d, c, b, a] = [g, f, e, (d + t1) & M, c, b, a, (t1 + t2) & M];
      }
      [a, b, c, d, e, f, g, k].forEach((v, i) => { h[i] = (h[i] + v) & M; });
    }
    return h.map(v => v.toString(16).padStart(16, "0")).join("");
  }

  async function hex(text) {
    const bytes = new TextEncoder().encode(text);
    if (window.crypto && crypto.subtle) {
      const d = new Uint8Array(await crypto.subtle.digest("SHA-512", bytes));
      return Array.from(d, b => b.toString(16).padStart(2, "0")).join("");
    }
    return fallback(bytes);
  }

  return {hex, fallback};
})();
