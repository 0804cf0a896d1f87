// ZCB1 sealed-bid envelope and custodian key handling with WebCrypto (docs/envelope.md).
// No dependencies, no build step. Files are read in slices (Blob.slice), never whole.
//
// WebCrypto support: ECDH on P-256, HKDF-SHA-256, PBKDF2-SHA-256 and AES-GCM (12-byte IV,
// 128-bit tag appended to the ciphertext, exactly like Python's `AESGCM`) are available in
// every current browser, but only in a secure context (https, or http://127.0.0.1 and
// http://localhost). ECDH `deriveBits(…, 256)` returns the 32-byte X coordinate, the same
// shared secret as `cryptography`'s `exchange(ECDH(), …)`.

const MAGIC = new Uint8Array([0x5a, 0x43, 0x42, 0x31]); // "ZCB1"
const VERSION = 1;
const INFO = new TextEncoder().encode("zhaocai bid v1");
const SHARE_INFO = "zhaocai share v1";
const KEY_FILE_KIND = "zhaocai-custodian-key";
const PBKDF2_ITERATIONS = 310000;
const TAG = 16;
const FIXED = 13; // magic, version, header length u32, chunk size u32
const KEYS = 65 + 32 + 7 + 32; // ephemeral point, salt, nonce prefix, fingerprint
const MAX_HEADER = 4096;
const READ_SLICE = 1 << 20;
const ECDH = { name: "ECDH", namedCurve: "P-256" };
/** Default plaintext bytes per chunk (1 MiB). */
export const DEFAULT_CHUNK = 1 << 20;
/** Largest chunk size a reader accepts (16 MiB). */
export const MAX_CHUNK = 16 << 20;

/** Base class of every envelope error; `name` is the Python class name it mirrors. */
export class EnvelopeError extends Error {
  constructor(message) { super(message); this.name = new.target.name; }
}
/** Not a ZCB1 envelope, or a broken header. */
export class MalformedHeader extends EnvelopeError {}
/** Sealed to another opening key (fingerprint mismatch). */
export class WrongKey extends EnvelopeError {}
/** Sealed for another lot, bidder or kind. */
export class WrongContext extends EnvelopeError {}
/** A chunk failed authentication: changed, reordered, truncated or extended. */
export class TamperedEnvelope extends EnvelopeError {}

function concat(...parts) {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) { out.set(p, offset); offset += p.length; }
  return out;
}
function u16(n) { const b = new Uint8Array(2); new DataView(b.buffer).setUint16(0, n); return b; }
function u32(n) { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n); return b; }
function equal(a, b) { return a.length === b.length && a.every((x, i) => x === b[i]); }
function nonce(prefix, index, last) {
  if (index >= 2 ** 32) throw new EnvelopeError("too many chunks for one envelope");
  return concat(prefix, u32(index), new Uint8Array([last ? 1 : 0]));
}
function b64url(bytes) {
  return b64encode(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
function fromB64url(text) {
  return b64decode(text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "="));
}

/** Base64 text to bytes. @param {string} text @returns {Uint8Array} */
export function b64decode(text) { return Uint8Array.from(atob(text), (c) => c.charCodeAt(0)); }

/** Bytes to base64 text. @param {Uint8Array} bytes @returns {string} */
export function b64encode(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** Hex text to bytes. @param {string} hex @returns {Uint8Array} */
export function hexdecode(hex) {
  return Uint8Array.from((hex.match(/../g) || []).map((h) => parseInt(h, 16)));
}

/** Bytes to lowercase hex. @param {Uint8Array} bytes @returns {string} */
export function hexencode(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The context bytes bound into the key and the header: lot id, bidder id and kind, each as
 * u16 length + UTF-8 (numbers are written in decimal).
 * @returns {Uint8Array}
 */
export function contextBytes(lotId, bidderId, kind) {
  const enc = new TextEncoder();
  return concat(...[String(lotId), String(bidderId), String(kind)].map((v) => {
    const raw = enc.encode(v);
    if (raw.length > 1024) throw new RangeError("context field longer than 1024 bytes");
    return concat(u16(raw.length), raw);
  }));
}

/**
 * Size of the sealed chunks alone: plaintext plus one 16-byte tag per chunk (an empty
 * plaintext is one empty final chunk).
 * @param {number} plainSize @param {number} [chunkSize] @returns {number}
 */
export function sealedBodySize(plainSize, chunkSize = DEFAULT_CHUNK) {
  return plainSize + TAG * Math.max(1, Math.ceil(plainSize / chunkSize));
}

/**
 * Exact envelope size, to check the lot's size limit before uploading. The header carries
 * the context, so pass it (or a `{lotId, bidderId, kind}` object) for the exact size;
 * without it the result is the body size. The older order `sealedSize(size, context,
 * chunkSize)` is also accepted.
 * @param {number} plainSize
 * @param {number} [chunkSize]
 * @param {Uint8Array|{lotId, bidderId, kind}} [context]
 * @returns {number}
 */
export function sealedSize(plainSize, chunkSize = DEFAULT_CHUNK, context = undefined) {
  if (chunkSize instanceof Uint8Array) [chunkSize, context] = [context ?? DEFAULT_CHUNK, chunkSize];
  if (context && !(context instanceof Uint8Array)) {
    context = contextBytes(context.lotId, context.bidderId, context.kind);
  }
  const header = context ? FIXED + KEYS + context.length : 0;
  return header + sealedBodySize(plainSize, chunkSize);
}

/**
 * Fresh random sealing parameters (ephemeral key as JWK, salt, nonce prefix). Keep them to
 * re-create byte-identical ciphertext when an upload resumes — and only for the very same
 * file: sealing different content with the same parameters reuses AES-GCM nonces.
 */
export async function newSealingParameters() {
  const pair = await crypto.subtle.generateKey(ECDH, true, ["deriveBits"]);
  return {
    ephemeral: await crypto.subtle.exportKey("jwk", pair.privateKey),
    salt: b64encode(crypto.getRandomValues(new Uint8Array(32))),
    prefix: b64encode(crypto.getRandomValues(new Uint8Array(7))),
  };
}

async function hkdfKey(secret, salt, info, usage) {
  const base = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt, info }, base,
                                 { name: "AES-GCM", length: 256 }, false, [usage]);
}

/**
 * Seal a Blob (a File, or a Blob of the price declaration) to a lot's opening key.
 * Yields the header, then one sealed chunk per `chunkSize` plaintext bytes; the Blob is
 * read one chunk at a time, so memory stays flat for any file size.
 * @param {Blob} file
 * @param {{openingPublicKeyRaw?: Uint8Array, openingKeyRaw?: Uint8Array, lotId, bidderId,
 *          kind: string, chunkSize?: number, params?: object}} options
 *   `openingPublicKeyRaw`: the 65-byte uncompressed point (`openingKeyRaw` is the older
 *   name); `params`: from `newSealingParameters()` for a resumable upload, or fixed test
 *   vector values.
 * @returns {AsyncGenerator<Uint8Array>}
 */
export async function* sealFile(file, { openingPublicKeyRaw, openingKeyRaw, lotId, bidderId,
                                        kind, chunkSize = DEFAULT_CHUNK, params }) {
  const openingRaw = openingPublicKeyRaw || openingKeyRaw;
  if (!(chunkSize >= 1 && chunkSize <= MAX_CHUNK)) throw new RangeError("invalid chunk size");
  if (!openingRaw || openingRaw.length !== 65 || openingRaw[0] !== 4) {
    throw new TypeError("the opening key must be a 65-byte uncompressed P-256 point");
  }
  const context = contextBytes(lotId, bidderId, kind);
  const p = params || await newSealingParameters();
  const privateKey = await crypto.subtle.importKey("jwk", p.ephemeral, ECDH, false,
                                                   ["deriveBits"]);
  const ephemeralRaw = concat(new Uint8Array([4]), fromB64url(p.ephemeral.x),
                              fromB64url(p.ephemeral.y));
  const opening = await crypto.subtle.importKey("raw", openingRaw, ECDH, false, []);
  const fingerprint = new Uint8Array(await crypto.subtle.digest("SHA-256", openingRaw));
  const salt = b64decode(p.salt);
  const prefix = b64decode(p.prefix);
  if (salt.length !== 32 || prefix.length !== 7) throw new TypeError("bad sealing parameters");
  const header = concat(MAGIC, new Uint8Array([VERSION]), u32(FIXED + KEYS + context.length),
                        u32(chunkSize), ephemeralRaw, salt, prefix, fingerprint, context);
  const secret = await crypto.subtle.deriveBits({ name: "ECDH", public: opening }, privateKey,
                                                256);
  const key = await hkdfKey(secret, salt, concat(INFO, context), "encrypt");
  yield header;
  const count = Math.max(1, Math.ceil(file.size / chunkSize));
  for (let i = 0; i < count; i++) {
    const end = Math.min(file.size, (i + 1) * chunkSize);
    const plain = new Uint8Array(await file.slice(i * chunkSize, end).arrayBuffer());
    yield new Uint8Array(await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce(prefix, i, i === count - 1), additionalData: header,
        tagLength: 128 }, key, plain));
  }
}

/** The older name of `sealFile` (same options). */
export const seal = sealFile;

/**
 * Seal a small payload (the price declaration) and return the whole envelope.
 * @param {Uint8Array|string} data  bytes, or text sealed as UTF-8
 * @param {object} options  as for `sealFile`
 * @returns {Promise<Uint8Array>}
 */
export async function sealBytes(data, options) {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const out = [];
  for await (const part of sealFile(new Blob([bytes]), options)) out.push(part);
  return concat(...out);
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
 * Parse and check a ZCB1 header at the start of `bytes` (which may hold more).
 * @param {Uint8Array} bytes
 * @returns {{chunkSize: number, ephemeralPublicKey: Uint8Array, salt: Uint8Array,
 *            noncePrefix: Uint8Array, fingerprint: Uint8Array, context: Uint8Array,
 *            lotId: string, bidderId: string, kind: string, raw: Uint8Array}}
 * @throws {MalformedHeader}
 */
export function readHeader(bytes) {
  if (bytes.length < FIXED) throw new MalformedHeader("too short to be a sealed bid");
  if (!equal(bytes.subarray(0, 4), MAGIC)) {
    throw new MalformedHeader("not a ZCB1 sealed bid (wrong magic)");
  }
  if (bytes[4] !== VERSION) throw new MalformedHeader(`unsupported envelope version ${bytes[4]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(5);
  const chunkSize = view.getUint32(9);
  if (length < FIXED + KEYS + 6 || length > MAX_HEADER) {
    throw new MalformedHeader(`invalid header length ${length}`);
  }
  if (bytes.length < length) throw new MalformedHeader("the header is truncated");
  if (chunkSize < 1 || chunkSize > MAX_CHUNK) {
    throw new MalformedHeader(`invalid chunk size ${chunkSize}`);
  }
  const raw = bytes.slice(0, length);
  const strings = [];
  let offset = FIXED + KEYS;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  for (let i = 0; i < 3; i++) {
    if (offset + 2 > length) throw new MalformedHeader("the context is truncated");
    const size = new DataView(raw.buffer).getUint16(offset);
    offset += 2;
    if (offset + size > length) throw new MalformedHeader("the context is truncated");
    try { strings.push(decoder.decode(raw.subarray(offset, offset + size))); } catch {
      throw new MalformedHeader("the context is not UTF-8");
    }
    offset += size;
  }
  if (offset !== length) throw new MalformedHeader("the header has trailing bytes");
  return {
    chunkSize, raw, lotId: strings[0], bidderId: strings[1], kind: strings[2],
    ephemeralPublicKey: raw.subarray(13, 78), salt: raw.subarray(78, 110),
    noncePrefix: raw.subarray(110, 117), fingerprint: raw.subarray(117, 149),
    context: raw.subarray(149),
  };
}

/** Pieces of a source: Uint8Array, ArrayBuffer, Blob (read in slices) or (async) iterable. */
async function* pieces(source) {
  if (source instanceof Uint8Array) { yield source; return; }
  if (source instanceof ArrayBuffer) { yield new Uint8Array(source); return; }
  if (typeof Blob !== "undefined" && source instanceof Blob) {
    for (let o = 0; o < source.size; o += READ_SLICE) {
      yield new Uint8Array(await source.slice(o, o + READ_SLICE).arrayBuffer());
    }
    return;
  }
  for await (const piece of source) yield piece instanceof Uint8Array ? piece : new Uint8Array(piece);
}

/** A byte queue over an async source: `fill(n)` reads until n bytes are buffered or the end. */
class Reader {
  constructor(source) { this.it = pieces(source)[Symbol.asyncIterator](); this.buf = []; this.size = 0; this.done = false; }
  async fill(n) {
    while (this.size < n && !this.done) {
      const { value, done } = await this.it.next();
      if (done) { this.done = true; } else if (value.length) { this.buf.push(value); this.size += value.length; }
    }
    return this.size;
  }
  peek(n) { const all = concat(...this.buf); this.buf = [all]; return all.subarray(0, n); }
  take(n) {
    const all = concat(...this.buf);
    this.buf = n < all.length ? [all.subarray(n)] : [];
    this.size = all.length - n;
    return all.subarray(0, n);
  }
}

async function publicRawOf(privateKey) {
  if (!privateKey.extractable) return null;
  const jwk = await crypto.subtle.exportKey("jwk", privateKey);
  return concat(new Uint8Array([4]), fromB64url(jwk.x), fromB64url(jwk.y));
}

/**
 * Open a sealed envelope as a stream, verifying everything; yields plaintext chunk by
 * chunk, each only after its tag verified. A later chunk can still fail (truncation shows
 * only at the end): discard everything received if this throws.
 * @param {Uint8Array|Blob|AsyncIterable<Uint8Array>|Iterable<Uint8Array>} source
 * @param {CryptoKey} privateKey  the opening key (ECDH P-256, usage deriveBits)
 * @param {{lotId, bidderId, kind: string, openingPublicKeyRaw?: Uint8Array}} expected
 *   the context the envelope must belong to; the opening public key (or an extractable
 *   private key) lets a wrong key be reported as such rather than as tampering.
 * @returns {AsyncGenerator<Uint8Array>}
 * @throws {MalformedHeader|WrongKey|WrongContext|TamperedEnvelope}
 */
export async function* openSealedStream(source, privateKey, { lotId, bidderId, kind,
                                                              openingPublicKeyRaw }) {
  const reader = new Reader(source);
  if (await reader.fill(FIXED) < FIXED) readHeader(reader.peek(FIXED));
  const length = new DataView(reader.peek(FIXED).slice().buffer).getUint32(5);
  await reader.fill(Math.min(length, MAX_HEADER + 1));
  const header = readHeader(reader.peek(reader.size));
  reader.take(header.raw.length);
  const publicRaw = openingPublicKeyRaw || await publicRawOf(privateKey);
  if (publicRaw) {
    const expectedFp = new Uint8Array(await crypto.subtle.digest("SHA-256", publicRaw));
    if (!equal(expectedFp, header.fingerprint)) {
      throw new WrongKey("this bid was sealed to another opening key");
    }
  }
  if (!equal(header.context, contextBytes(lotId, bidderId, kind))) {
    throw new WrongContext(
      `this envelope belongs to another lot, bidder or kind: lot '${header.lotId}', bidder ` +
      `'${header.bidderId}', '${header.kind}', not lot '${lotId}', bidder '${bidderId}', '${kind}'`);
  }
  let ephemeral;
  try {
    ephemeral = await crypto.subtle.importKey("raw", header.ephemeralPublicKey, ECDH, false, []);
  } catch {
    throw new MalformedHeader("not a P-256 public key (the point is not on the curve)");
  }
  const secret = await crypto.subtle.deriveBits({ name: "ECDH", public: ephemeral },
                                                privateKey, 256);
  const key = await hkdfKey(secret, header.salt, concat(INFO, header.context), "decrypt");
  const sealedChunk = header.chunkSize + TAG;
  const decrypt = async (block, index, last) => {
    try {
      return new Uint8Array(await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: nonce(header.noncePrefix, index, last),
          additionalData: header.raw, tagLength: 128 }, key, block));
    } catch {
      throw new TamperedEnvelope(`${last ? "last chunk" : "chunk"} ${index} failed ` +
        "authentication: the bid was changed, reordered, truncated or extended");
    }
  };
  let index = 0;
  while (await reader.fill(sealedChunk + 1) > sealedChunk) {
    yield await decrypt(reader.take(sealedChunk), index, false);
    index += 1;
  }
  if (reader.size < TAG) {
    throw new TamperedEnvelope("the envelope is truncated: its last chunk is missing");
  }
  yield await decrypt(reader.take(reader.size), index, true);
}

/**
 * Open a whole sealed envelope and return the plaintext (see `openSealedStream`).
 * @returns {Promise<Uint8Array>}
 */
export async function openSealed(source, privateKey, expected) {
  const out = [];
  for await (const plain of openSealedStream(source, privateKey, expected)) out.push(plain);
  return concat(...out);
}

/**
 * Import a P-256 private key for ECDH from its 32-byte scalar and its public point.
 * @param {string|Uint8Array} scalar  hex text or bytes
 * @param {Uint8Array} publicRaw  the 65-byte uncompressed point
 * @param {boolean} [extractable]
 * @returns {Promise<CryptoKey>}
 */
export async function importPrivateKey(scalar, publicRaw, extractable = false) {
  const d = typeof scalar === "string" ? hexdecode(scalar) : scalar;
  return crypto.subtle.importKey("jwk", {
    kty: "EC", crv: "P-256", d: b64url(d), x: b64url(publicRaw.subarray(1, 33)),
    y: b64url(publicRaw.subarray(33, 65)), ext: extractable,
  }, ECDH, extractable, ["deriveBits"]);
}

/**
 * A custodian's key pair, made in this browser; the private key never leaves it except in
 * the passphrase-protected key file (`exportCustodianKeyFile`).
 * @returns {Promise<{privateKey: CryptoKey, publicKeyRaw: Uint8Array, pkcs8: Uint8Array,
 *                    jwk: JsonWebKey}>}
 */
export async function generateCustodianKey() {
  const pair = await crypto.subtle.generateKey(ECDH, true, ["deriveBits"]);
  return {
    privateKey: pair.privateKey,
    publicKeyRaw: new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)),
    pkcs8: new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey)),
    jwk: await crypto.subtle.exportKey("jwk", pair.privateKey),
  };
}

async function passphraseKey(passphrase, salt, iterations) {
  const base = await crypto.subtle.importKey("raw", new TextEncoder().encode(passphrase),
                                             "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, base,
                                 { name: "AES-GCM", length: 256 }, false,
                                 ["encrypt", "decrypt"]);
}

/**
 * The custodian key file (same JSON as `zhaocai custodian keygen`): PBKDF2-SHA-256 and
 * AES-256-GCM over the PKCS#8 key.
 * @param {{pkcs8: Uint8Array, publicKeyRaw: Uint8Array}} key  from `generateCustodianKey`
 * @param {string} passphrase  at least 12 characters
 * @returns {Promise<object>} the JSON document
 */
export async function exportCustodianKeyFile(key, passphrase) {
  if (passphrase.length < 12) throw new RangeError("the passphrase needs at least 12 characters");
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const kek = await passphraseKey(passphrase, salt, PBKDF2_ITERATIONS);
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, kek,
                                                            key.pkcs8));
  return { kind: KEY_FILE_KIND, v: 1, kdf: "PBKDF2-SHA256", iterations: PBKDF2_ITERATIONS,
           salt: b64encode(salt), nonce: b64encode(iv), ciphertext: b64encode(sealed),
           public_key: b64encode(key.publicKeyRaw) };
}

/**
 * Read a custodian key file (object or JSON text) with its passphrase.
 * @returns {Promise<CryptoKey>} the private key (ECDH, deriveBits, not extractable)
 * @throws {Error} not a key file, or the wrong passphrase (`name` "WrongPassphrase")
 */
export async function loadCustodianKeyFile(doc, passphrase) {
  const notKeyFile = () => Object.assign(new Error("not a custodian key file"),
                                         { name: "NotAKeyFile" });
  let file = doc;
  if (typeof doc === "string") {
    try { file = JSON.parse(doc); } catch { throw notKeyFile(); }
  }
  if (file === null || typeof file !== "object" || file.kind !== KEY_FILE_KIND || file.v !== 1) {
    throw notKeyFile();
  }
  const kek = await passphraseKey(passphrase, b64decode(file.salt), file.iterations);
  let pkcs8;
  try {
    pkcs8 = await crypto.subtle.decrypt({ name: "AES-GCM", iv: b64decode(file.nonce) }, kek,
                                        b64decode(file.ciphertext));
  } catch {
    throw Object.assign(new Error("wrong passphrase"), { name: "WrongPassphrase" });
  }
  return crypto.subtle.importKey("pkcs8", pkcs8, ECDH, false, ["deriveBits"]);
}

/**
 * Decrypt a key share encrypted to this custodian (ECIES: ephemeral point 65 ‖ salt 32 ‖
 * nonce 12 ‖ AES-256-GCM; key = HKDF-SHA-256(ECDH, salt, info), AAD = info, info =
 * "zhaocai share v1|lot=<lot>|custodian=<custodian>").
 * @param {Uint8Array} blob
 * @param {CryptoKey} custodianPrivateKey
 * @param {{lotId, custodianId}} context
 * @returns {Promise<Uint8Array>} the share (canonical JSON)
 * @throws {Error} `name` "ShareMismatch": truncated, another key, lot or custodian, altered
 */
export async function decryptShare(blob, custodianPrivateKey, { lotId, custodianId }) {
  const mismatch = (message) => Object.assign(new Error(message), { name: "ShareMismatch" });
  if (String(lotId).includes("|") || String(custodianId).includes("|")) {
    throw new TypeError("a lot or custodian id cannot contain '|'");
  }
  if (blob.length < 65 + 32 + 12 + TAG) throw mismatch("the encrypted share is truncated");
  const info = new TextEncoder().encode(`${SHARE_INFO}|lot=${lotId}|custodian=${custodianId}`);
  let ephemeral;
  try {
    ephemeral = await crypto.subtle.importKey("raw", blob.subarray(0, 65), ECDH, false, []);
  } catch {
    throw mismatch("this is not an encrypted key share");
  }
  const secret = await crypto.subtle.deriveBits({ name: "ECDH", public: ephemeral },
                                                custodianPrivateKey, 256);
  const key = await hkdfKey(secret, blob.subarray(65, 97), info, "decrypt");
  try {
    return new Uint8Array(await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: blob.subarray(97, 109), additionalData: info, tagLength: 128 },
      key, blob.subarray(109)));
  } catch {
    throw mismatch("this share is not encrypted to your key, or is for another lot or " +
                   "custodian, or was altered");
  }
}
