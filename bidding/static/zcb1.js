// ZCB1 sealed-bid envelope with WebCrypto (see docs/envelope.md). No dependencies.
// Files are read in slices (Blob.slice), never whole, so large bids fit in memory.

const MAGIC = new Uint8Array([0x5a, 0x43, 0x42, 0x31]);
const INFO = new TextEncoder().encode("zhaocai bid v1");
const TAG = 16;
export const DEFAULT_CHUNK = 1 << 20;

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) { out.set(p, offset); offset += p.length; }
  return out;
}
function u16(n) { const b = new Uint8Array(2); new DataView(b.buffer).setUint16(0, n); return b; }
function u32(n) { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n); return b; }
export function b64decode(text) { return Uint8Array.from(atob(text), (c) => c.charCodeAt(0)); }
export function b64encode(bytes) {
  let s = ""; for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** The context bytes: lot id, bidder id and kind, each u16 length + UTF-8. */
export function contextBytes(lotId, bidderId, kind) {
  const enc = new TextEncoder();
  return concat(...[String(lotId), String(bidderId), kind].map((v) => {
    const raw = enc.encode(v); return concat(u16(raw.length), raw);
  }));
}

/** Exact sealed size for a plaintext of `size` bytes (checked against the lot's limit). */
export function sealedSize(size, context, chunkSize = DEFAULT_CHUNK) {
  const header = 13 + 65 + 32 + 7 + 32 + context.length;
  return header + size + TAG * Math.max(1, Math.ceil(size / chunkSize));
}

/** Fresh random sealing parameters; keep them to re-create identical ciphertext on resume. */
export async function newSealingParameters() {
  const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true,
                                               ["deriveBits"]);
  return {
    ephemeral: await crypto.subtle.exportKey("jwk", pair.privateKey),
    salt: b64encode(crypto.getRandomValues(new Uint8Array(32))),
    prefix: b64encode(crypto.getRandomValues(new Uint8Array(7))),
  };
}

/**
 * Seal a Blob (a File, or a Blob of the price declaration) for a lot and bidder.
 * Yields the header, then one sealed chunk (Uint8Array) per plaintext chunk.
 */
export async function* seal(blob, { openingKeyRaw, lotId, bidderId, kind, params,
                                    chunkSize = DEFAULT_CHUNK }) {
  const context = contextBytes(lotId, bidderId, kind);
  const p = params || await newSealingParameters();
  const privateKey = await crypto.subtle.importKey(
    "jwk", p.ephemeral, { name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
  const { d, ...publicJwk } = p.ephemeral;  // eslint-disable-line no-unused-vars
  const publicKey = await crypto.subtle.importKey(
    "jwk", { ...publicJwk, key_ops: [] }, { name: "ECDH", namedCurve: "P-256" }, true, []);
  const ephemeralRaw = new Uint8Array(await crypto.subtle.exportKey("raw", publicKey));
  const opening = await crypto.subtle.importKey(
    "raw", openingKeyRaw, { name: "ECDH", namedCurve: "P-256" }, false, []);
  const fingerprint = new Uint8Array(await crypto.subtle.digest("SHA-256", openingKeyRaw));
  const salt = b64decode(p.salt);
  const prefix = b64decode(p.prefix);
  const fixedLength = 13 + 65 + 32 + 7 + 32 + context.length;
  const header = concat(MAGIC, new Uint8Array([1]), u32(fixedLength), u32(chunkSize),
                        ephemeralRaw, salt, prefix, fingerprint, context);
  const secret = await crypto.subtle.deriveBits({ name: "ECDH", public: opening }, privateKey,
                                                256);
  const hkdf = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveKey"]);
  const key = await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt, info: concat(INFO, context) }, hkdf,
    { name: "AES-GCM", length: 256 }, false, ["encrypt"]);
  yield header;
  const count = Math.max(1, Math.ceil(blob.size / chunkSize));
  for (let i = 0; i < count; i++) {
    const plain = new Uint8Array(await blob.slice(i * chunkSize,
                                                  Math.min(blob.size, (i + 1) * chunkSize))
                                           .arrayBuffer());
    const nonce = concat(prefix, u32(i), new Uint8Array([i === count - 1 ? 1 : 0]));
    yield new Uint8Array(await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData: header, tagLength: 128 }, key, plain));
  }
}

/** Regroup a sealed stream into upload parts of exactly `partSize` bytes (last shorter). */
export async function* parts(stream, partSize) {
  let pending = [];
  let size = 0;
  for await (const piece of stream) {
    let rest = piece;
    while (size + rest.length >= partSize) {
      const take = partSize - size;
      pending.push(rest.subarray(0, take));
      yield concat(...pending);
      pending = []; size = 0; rest = rest.subarray(take);
    }
    if (rest.length) { pending.push(rest); size += rest.length; }
  }
  if (size) yield concat(...pending);
}
