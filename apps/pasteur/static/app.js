// pasteur: progressive enhancement only; every page works without it.
// Ctrl+Enter submits, the "encrypt" option (AES-GCM in the browser, the key
// only in the link's fragment), decryption of encrypted pastes.
"use strict";

function b64encode(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
function b64decode(text) {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
function b64url(bytes) {
  return b64encode(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
function b64urlDecode(text) {
  const s = text.replace(/-/g, "+").replace(/_/g, "/");
  return b64decode(s + "===".slice((s.length + 3) % 4));
}

async function encryptAndSend(form) {
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt"]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plain = new TextEncoder().encode(form.elements.content.value);
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, plain));
  const payload = new Uint8Array(iv.length + sealed.length);
  payload.set(iv);
  payload.set(sealed, iv.length);
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", key));
  const body = new URLSearchParams();
  body.set("content", b64encode(payload));
  body.set("encrypted", "1");
  for (const name of ["title", "lang", "expire"]) body.set(name, form.elements[name].value);
  if (form.elements.burn.checked) body.set("burn", "1");
  const res = await fetch("/", { method: "POST", body, headers: { "Accept": "application/json" } });
  const answer = await res.json().catch(() => ({ error: "HTTP " + res.status }));
  if (!res.ok) throw new Error(answer.error || "HTTP " + res.status);
  const link = answer.url + "#" + b64url(raw);
  form.hidden = true;
  const result = document.getElementById("encrypted-result");
  const a = document.getElementById("encrypted-link");
  a.href = link;
  a.textContent = link;
  const d = document.getElementById("encrypted-delete");
  d.href = answer.delete;
  d.textContent = answer.delete;
  result.hidden = false;
}

function setupForm() {
  const form = document.getElementById("paste-form");
  if (!form) return;
  form.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  const option = document.getElementById("encrypt-option");
  if (window.crypto && crypto.subtle && option) option.hidden = false;
  form.addEventListener("submit", (e) => {
    const encrypt = document.getElementById("encrypt");
    if (!encrypt || !encrypt.checked) return;
    e.preventDefault();
    encryptAndSend(form).catch((err) => alert("Encryption failed: " + err.message));
  });
}

async function decrypt() {
  const pre = document.getElementById("decrypted");
  if (!pre) return;
  const error = document.getElementById("decrypt-error");
  try {
    const fragment = location.hash.slice(1);
    if (!fragment) throw new Error("the link has no key (#...)");
    const key = await crypto.subtle.importKey("raw", b64urlDecode(fragment), "AES-GCM", false, ["decrypt"]);
    const payload = b64decode(pre.dataset.ciphertext.trim());
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: payload.slice(0, 12) }, key, payload.slice(12));
    pre.textContent = new TextDecoder().decode(plain);
  } catch (err) {
    error.textContent = "Cannot decrypt this paste: " + (err.message || "wrong key");
    error.hidden = false;
  }
}

function keepFragmentOnBurn() {
  // A burnt encrypted paste is shown by the POST's answer: keep the key.
  const form = document.getElementById("burn-form");
  if (form && location.hash) form.action = form.getAttribute("action") + location.hash;
}

document.addEventListener("DOMContentLoaded", () => {
  setupForm();
  keepFragmentOnBurn();
  decrypt();
});
