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

/**
 * Open a sealed envelope (Uint8Array) with a P-256 private CryptoKey (ECDH, deriveBits).
 * Checks the context and every chunk; returns the plaintext. Throws on any mismatch.
 */
export async function openSealed(envelope, privateKey, { lotId, bidderId, kind }) {
  const view = new DataView(envelope.buffer, envelope.byteOffset, envelope.byteLength);
  if (String.fromCharCode(...envelope.subarray(0, 4)) !== "ZCB1" || envelope[4] !== 1) {
    throw new Error("not a ZCB1 envelope");
  }
  const headerLength = view.getUint32(5);
  const chunkSize = view.getUint32(9);
  const header = envelope.subarray(0, headerLength);
  const ephemeralRaw = header.subarray(13, 78);
  const salt = header.subarray(78, 110);
  const prefix = header.subarray(110, 117);
  const context = header.subarray(149);
  const expected = contextBytes(lotId, bidderId, kind);
  if (context.length !== expected.length || context.some((b, i) => b !== expected[i])) {
    throw new Error("this envelope belongs to another lot, bidder or kind");
  }
  const ephemeral = await crypto.subtle.importKey(
    "raw", ephemeralRaw, { name: "ECDH", namedCurve: "P-256" }, false, []);
  const secret = await crypto.subtle.deriveBits({ name: "ECDH", public: ephemeral },
                                                privateKey, 256);
  const hkdf = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveKey"]);
  const key = await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt, info: concat(INFO, context) }, hkdf,
    { name: "AES-GCM", length: 256 }, false, ["decrypt"]);
  const body = envelope.subarray(headerLength);
  const sealedChunk = chunkSize + TAG;
  const count = Math.max(1, Math.ceil(body.length / sealedChunk));
  const out = [];
  for (let i = 0; i < count; i++) {
    const last = i === count - 1;
    const nonce = concat(prefix, u32(i), new Uint8Array([last ? 1 : 0]));
    out.push(new Uint8Array(await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: nonce, additionalData: header, tagLength: 128 }, key,
      body.subarray(i * sealedChunk, Math.min(body.length, (i + 1) * sealedChunk)))));
  }
  return concat(...out);
}

/** Import a P-256 private key for ECDH from its scalar (hex) and public point (raw). */
export async function importPrivateKey(scalarHex, publicRaw) {
  const b64url = (bytes) => b64encode(bytes).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
  const d = Uint8Array.from(scalarHex.match(/../g).map((h) => parseInt(h, 16)));
  return crypto.subtle.importKey("jwk", {
    kty: "EC", crv: "P-256", d: b64url(d), x: b64url(publicRaw.subarray(1, 33)),
    y: b64url(publicRaw.subarray(33, 65)), ext: true,
  }, { name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
}
