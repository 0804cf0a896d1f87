// Key custodians in the browser: create a key pair (the private key never leaves this
// computer; it is saved in a passphrase-protected file) and release a share at an opening.
// The key file format is the same as `zhaocai custodian keygen` (docs/envelope.md).
import { b64decode, b64encode } from "./zcb1.js";

const ITERATIONS = 310000;
const SHARE_INFO = "zhaocai share v1";
const csrf = () => (document.cookie.match(/(?:^|; )zc_csrf=([^;]*)/) || [])[1] || "";
const status = document.getElementById("custodian-status");
const messages = document.getElementById("custodian-page").dataset;

async function api(method, path, body) {
  const response = await fetch(path, {
    method, credentials: "same-origin",
    headers: { "x-csrftoken": csrf(), "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.detail || response.statusText);
  return data;
}

async function passphraseKey(passphrase, salt, iterations) {
  const base = await crypto.subtle.importKey("raw", new TextEncoder().encode(passphrase),
                                             "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, base,
                                 { name: "AES-GCM", length: 256 }, false,
                                 ["encrypt", "decrypt"]);
}

async function createKey(passphrase) {
  if (passphrase.length < 12) throw new Error(messages.msgPassphrase);
  const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true,
                                               ["deriveBits"]);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const publicRaw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const kek = await passphraseKey(passphrase, salt, ITERATIONS);
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce }, kek,
                                                            pkcs8));
  return { kind: "zhaocai-custodian-key", v: 1, kdf: "PBKDF2-SHA256", iterations: ITERATIONS,
           salt: b64encode(salt), nonce: b64encode(nonce), ciphertext: b64encode(sealed),
           public_key: b64encode(publicRaw) };
}

async function loadKey(file, passphrase) {
  const doc = JSON.parse(await file.text());
  if (doc.kind !== "zhaocai-custodian-key") throw new Error("not a custodian key file");
  const kek = await passphraseKey(passphrase, b64decode(doc.salt), doc.iterations);
  let pkcs8;
  try {
    pkcs8 = await crypto.subtle.decrypt({ name: "AES-GCM", iv: b64decode(doc.nonce) }, kek,
                                        b64decode(doc.ciphertext));
  } catch (error) {
    throw new Error(messages.msgWrongPassphrase);
  }
  return crypto.subtle.importKey("pkcs8", pkcs8, { name: "ECDH", namedCurve: "P-256" }, false,
                                 ["deriveBits"]);
}

async function decryptShare(blob, privateKey, lotId, custodianId) {
  const info = new TextEncoder().encode(`${SHARE_INFO}|lot=${lotId}|custodian=${custodianId}`);
  const ephemeral = await crypto.subtle.importKey("raw", blob.subarray(0, 65),
                                                  { name: "ECDH", namedCurve: "P-256" }, false, []);
  const secret = await crypto.subtle.deriveBits({ name: "ECDH", public: ephemeral }, privateKey,
                                                256);
  const hkdf = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveKey"]);
  const key = await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: blob.subarray(65, 97), info }, hkdf,
    { name: "AES-GCM", length: 256 }, false, ["decrypt"]);
  return new Uint8Array(await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: blob.subarray(97, 109), additionalData: info }, key,
    blob.subarray(109)));
}

const keygen = document.getElementById("keygen-form");
if (keygen) {
  keygen.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const doc = await createKey(keygen.passphrase.value);
      const link = document.getElementById("key-download");
      link.href = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)],
                                               { type: "application/json" }));
      link.hidden = false;
      await api("POST", "/api/custodian/key", { public_key: doc.public_key });
      status.textContent = keygen.dataset.msgDone;
    } catch (error) { status.textContent = error.message; }
  });
}

for (const form of document.querySelectorAll("form.release-form")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const out = form.querySelector(".release-status");
    try {
      const lotId = form.dataset.lot;
      const key = await loadKey(form.keyfile.files[0], form.passphrase.value);
      const encrypted = await api("GET", `/api/opening/lots/${lotId}/share`);
      const share = await decryptShare(b64decode(encrypted.encrypted_share), key, lotId,
                                       encrypted.custodian_id);
      const result = await api("POST", `/api/opening/lots/${lotId}/shares`,
                               { share: b64encode(share) });
      out.textContent = `${result.released} / ${result.threshold}`;
    } catch (error) { out.textContent = error.message; }
  });
}
