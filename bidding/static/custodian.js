// Key custodians in the browser: create a key pair (the private key never leaves this
// computer; it is saved in a passphrase-protected file) and release a share at an opening.
// The key file format is the same as `zhaocai custodian keygen` (docs/envelope.md); the
// cryptography lives in zcb1.js.
import {
  b64decode, b64encode, decryptShare, exportCustodianKeyFile, generateCustodianKey,
  loadCustodianKeyFile,
} from "./zcb1.js";

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
  if (!response.ok) throw new Error(data.message || data.detail || response.statusText);
  return data;
}

async function createKey(passphrase) {
  if (passphrase.length < 12) throw new Error(messages.msgPassphrase);
  return exportCustodianKeyFile(await generateCustodianKey(), passphrase);
}

async function loadKey(file, passphrase) {
  try {
    return await loadCustodianKeyFile(await file.text(), passphrase);
  } catch (error) {
    if (error.name === "WrongPassphrase") throw new Error(messages.msgWrongPassphrase);
    if (error.name === "NotAKeyFile") throw new Error(messages.msgNotKeyFile);
    throw error;
  }
}

const keygen = document.getElementById("keygen-form");
if (keygen) {
  keygen.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const link = document.getElementById("key-download");
      link.hidden = true;  // a key the platform refused must not be saved as if it counted
      const doc = await createKey(keygen.passphrase.value);
      await api("POST", "/api/custodian/key", { public_key: doc.public_key });
      link.href = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)],
                                               { type: "application/json" }));
      link.hidden = false;
      status.className = "small";
      status.textContent = keygen.dataset.msgDone;
    } catch (error) { status.className = "small error"; status.textContent = error.message; }
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
      const share = await decryptShare(b64decode(encrypted.encrypted_share), key,
                                       { lotId, custodianId: encrypted.custodian_id });
      const result = await api("POST", `/api/opening/lots/${lotId}/shares`,
                               { share: b64encode(share) });
      out.className = "release-status small";
      out.textContent = `${result.released} / ${result.threshold}`;
    } catch (error) {
      out.className = "release-status small error";
      out.textContent = error.name === "ShareMismatch" ? messages.msgShareMismatch : error.message;
    }
  });
}
