// The bid page: seal in this browser, upload in resumable parts, show the receipt.
import { b64decode, contextBytes, newSealingParameters, parts, seal, sealedSize } from "./zcb1.js";

const form = document.getElementById("bid-form");  // absent once the lot takes no bids
const lotId = Number(form?.dataset.lot);
const bidderId = Number(form?.dataset.bidder);
const stateKey = `zhaocai-bid-${lotId}`;
const csrf = () => (document.cookie.match(/(?:^|; )zc_csrf=([^;]*)/) || [])[1] || "";
const status = document.getElementById("status");
const PARTS_IN_FLIGHT = 3;  // the platform holds back at most two parts ahead of the next

// withdrawing is final for that bid: ask first
for (const withdraw of document.querySelectorAll("form[data-confirm]")) {
  withdraw.addEventListener("submit", (event) => {
    if (!window.confirm(withdraw.dataset.confirm)) event.preventDefault();
  });
}

async function api(method, path, body, raw) {
  // Bytes go as a Blob: Chromium sends a Blob from its own storage, several times faster
  // than a typed array it must stream out of the page (8 MiB: 60 ms against 380 ms).
  const payload = raw ? new Blob([body]) : (body === undefined ? undefined : JSON.stringify(body));
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch(path, {
        method, credentials: "same-origin",
        headers: raw ? { "x-csrftoken": csrf(), "content-type": "application/octet-stream" }
                     : { "x-csrftoken": csrf(), "content-type": "application/json" },
        body: payload,
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw Object.assign(new Error(data.message || data.detail || response.statusText),
                                            { status: response.status });
      return data;
    } catch (error) {
      // a dropped connection, or the file store briefly unavailable (503), is retried;
      // any other refusal from the platform is final
      if ((error.status && error.status !== 503) || attempt >= 5) throw error;
      status.textContent = form.dataset.msgRetry;
      await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
    }
  }
}

/** "1250000.5" → 125000050n: exact integer fen, as the server counts money. */
function yuanToFen(text) {
  const [whole, part = ""] = text.split(".");
  return BigInt(whole) * 100n + BigInt((part + "00").slice(0, 2));
}

function setBar(id, done, total) {
  const pct = total ? Math.floor((100 * done) / total) : 100;
  document.querySelector(`#${id} > span`).style.width = `${pct}%`;
  document.getElementById(`${id}-label`).textContent = `${pct}%`;
}

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const price = form.price.value.trim();
    if (!/^\d+(\.\d{1,2})?$/.test(price)) throw new Error(form.dataset.msgPrice);
    // A price above the budget or ceiling makes the bid invalid (RULES §3: MOF87 Art. 63,
    // TBL-R Art. 51): say so before it is sealed, since nobody can look at it afterwards.
    const limit = form.dataset.limitFen ? BigInt(form.dataset.limitFen) : null;
    if (limit !== null && yuanToFen(price) > limit && !window.confirm(form.dataset.msgOverLimit)) {
      return;
    }
    const files = { price: new Blob([JSON.stringify({ total: price, items: [] })]) };
    for (const input of form.querySelectorAll("input[type=file]")) {
      if (input.files.length) files[input.name] = input.files[0];
    }
    const key = await api("GET", `/api/lots/${lotId}/opening-key`);
    const openingKeyRaw = b64decode(key.public_key);
    let state = JSON.parse(localStorage.getItem(stateKey) || "null");
    const sizes = Object.fromEntries(Object.entries(files).map(([kind, blob]) =>
      [kind, sealedSize(blob.size, contextBytes(lotId, bidderId, kind))]));
    // Reuse the stored sealing parameters only for the very same files and price: sealing
    // different content with them would reuse AES-GCM nonces.
    const identity = Object.fromEntries(Object.entries(files).map(([kind, blob]) =>
      [kind, kind === "price" ? `price:${price}`
                              : `${blob.name}|${blob.size}|${blob.lastModified}`]));
    const same = state && Object.keys(identity).length === Object.keys(state.identity || {}).length
      && Object.keys(identity).every((k) => state.identity[k] === identity[k]);
    if (!same) {
      const params = {};
      for (const kind of Object.keys(files)) params[kind] = await newSealingParameters();
      const started = await api("POST", `/api/lots/${lotId}/bids`, {
        files: Object.entries(sizes).map(([kind, size]) => ({ kind, size })) });
      state = { bidId: started.bid_id, sizes, params, identity,
                fileIds: Object.fromEntries(started.files.map((f) => [f.kind, f.file_id])) };
      localStorage.setItem(stateKey, JSON.stringify(state));
    }
    const progress = await api("GET", `/api/bids/${state.bidId}`);
    const received = Object.fromEntries(progress.files.map((f) =>
      [f.file_id, new Set(f.parts_received)]));
    const total = Object.values(sizes).reduce((a, b) => a + b, 0);
    let sent = 0;
    for (const [kind, blob] of Object.entries(files)) {
      const fileId = state.fileIds[kind];
      let done = 0; let number = 0;
      const stream = seal(blob, { openingKeyRaw, lotId, bidderId, kind, params: state.params[kind] });
      // Parts in flight, as the CLI sends them: the next part is sealed while others travel,
      // and the platform keeps its store busy; memory stays at a few parts whatever the size.
      const inFlight = [];
      try {
        for await (const part of parts(stream, progress.part_size)) {
          number += 1;
          const size = part.length;
          const upload = (received[fileId].has(number) ? Promise.resolve()
            : api("PUT", `/api/bids/${state.bidId}/files/${fileId}/parts/${number}`, part, true))
            .then(() => {
              done += size; sent += size;
              setBar(`bar-${kind}`, done, sizes[kind]);
              setBar("bar-total", sent, total);
              status.textContent = form.dataset.msgUploading;
            });
          upload.catch(() => {});  // a failure is raised where it is awaited, below
          inFlight.push(upload);
          if (inFlight.length >= PARTS_IN_FLIGHT) await inFlight.shift();
        }
        while (inFlight.length) await inFlight.shift();
      } finally {
        await Promise.allSettled(inFlight);  // after a failure, let the others end first
      }
    }
    const receipt = await api("POST", `/api/bids/${state.bidId}/submit`);
    localStorage.removeItem(stateKey);
    status.textContent = form.dataset.msgDone;
    const link = document.getElementById("receipt-link");
    link.href = `/bids/${receipt.receipt.bid_id}/receipt`;
    link.hidden = false;
    document.getElementById("receipt-sequence").textContent = receipt.receipt.sequence;
  } catch (error) {
    status.textContent = error.message;
    status.classList.add("error");
  } finally {
    button.disabled = false;
  }
});
