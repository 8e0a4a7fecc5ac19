// SynthFM interactive segmentation page. Plain JavaScript against the JSON
// API of docs/api.md; no build step.
"use strict";

const $ = (id) => document.getElementById(id);

const state = {
  session: null,   // SessionJSON
  slice: 0,
  window: "",
  points: [],      // {x, y, label}
  box: null,       // [x0, y0, x1, y1]
  history: [],     // undo stack of {kind: "point"} or {kind: "box", previous}
  masks: [],       // MaskJSON of the last prediction
  chosen: -1,
  maskPoints: 0,   // how many points the shown mask was predicted from
  generation: 0,   // bumps when the slice or window changes; stale answers are dropped
  predicting: 0,
  kept: new Set(), // slices whose mask the server keeps
};

function setStatus(text, kind) {
  $("status").textContent = text;
  if (kind) document.body.dataset.state = kind;
}

async function api(method, path, body, headers) {
  const res = await fetch(path, { method, body, headers });
  const type = res.headers.get("Content-Type") || "";
  const data = type.includes("application/json") ? await res.json() : await res.blob();
  if (!res.ok) {
    const msg = data && data.error ? data.error : `${res.status} ${res.statusText}`;
    throw new Error(msg);
  }
  return data;
}

function sessionPath(rest) {
  return `/api/sessions/${state.session.id}${rest}`;
}

async function loadInfo() {
  try {
    const info = await api("GET", "/api/info");
    $("model").textContent = `model: ${info.model.name}`;
    const sel = $("window");
    sel.replaceChildren();
    for (const name of info.windows) {
      const opt = document.createElement("option");
      opt.value = name;
      opt.textContent = name;
      sel.append(opt);
    }
  } catch (err) {
    setStatus(`Cannot reach the server: ${err.message}`, "error");
  }
}

async function upload(files) {
  if (!files || files.length === 0) return;
  const form = new FormData();
  for (const f of files) form.append("file", f, f.name);
  setStatus(`Uploading ${files.length === 1 ? files[0].name : files.length + " files"}…`, "uploading");
  try {
    if (state.session) {
      fetch(sessionPath(""), { method: "DELETE" }).catch(() => {});
    }
    state.session = await api("POST", "/api/sessions", form);
    state.kept = new Set(state.session.labelled_slices);
  } catch (err) {
    state.session = null;
    setStatus(`Upload failed: ${err.message}`, "error");
    return;
  }
  const s = state.session;
  $("toolbar").hidden = false;
  $("slice").max = String(s.slices - 1);
  $("slice").value = String(Math.floor(s.slices / 2));
  $("slice-control").hidden = s.slices < 2;
  ensureWindowOption(s.window);
  $("window").value = s.window;
  await showSlice();
}

// tryExample opens the server's example picture (a synthetic sample) as if
// the user had chosen it, so that a first visit can start with a click.
async function tryExample() {
  setStatus("Fetching the example…", "uploading");
  try {
    const resp = await fetch("/api/example");
    if (!resp.ok) throw new Error(`${resp.status} ${resp.statusText}`);
    const blob = await resp.blob();
    await upload([new File([blob], "example.png", { type: "image/png" })]);
  } catch (err) {
    setStatus(`Example failed: ${err.message}`, "error");
  }
}

function ensureWindowOption(name) {
  const sel = $("window");
  if (![...sel.options].some((o) => o.value === name)) {
    const opt = document.createElement("option");
    opt.value = name;
    opt.textContent = name;
    sel.append(opt);
  }
}

// showSlice draws the current slice and computes its embedding, showing
// progress; prompts start empty on each slice.
async function showSlice() {
  const s = state.session;
  state.slice = Number($("slice").value);
  state.window = $("window").value;
  $("slice-label").textContent = `${state.slice} / ${s.slices - 1}`;
  state.points = [];
  state.box = null;
  state.history = [];
  state.masks = [];
  state.chosen = -1;
  state.maskPoints = 0;
  const gen = ++state.generation;
  renderMasks();
  updateDownloads();
  const q = `window=${encodeURIComponent(state.window)}`;
  const img = new Image();
  img.src = sessionPath(`/slices/${state.slice}.png?${q}`);
  try {
    await img.decode();
  } catch (err) {
    setStatus(`Cannot show slice ${state.slice}`, "error");
    return;
  }
  if (gen !== state.generation) return;
  for (const id of ["image", "mask"]) {
    $(id).width = s.width;
    $(id).height = s.height;
  }
  fitCanvas();
  $("image").getContext("2d").drawImage(img, 0, 0);
  drawMask(null);
  drawPrompts();
  if (state.kept.has(state.slice)) {
    // Show the mask kept for this slice earlier (it is in the downloads).
    const kept = new Image();
    kept.src = sessionPath(`/labels/${state.slice}.png?t=${Date.now()}`);
    try {
      await kept.decode();
      if (gen === state.generation) drawMask(kept);
    } catch (err) {
      // not fatal: the slice is shown without its kept mask
    }
  }
  await embed(gen);
}

async function embed(gen) {
  const bar = $("progress");
  bar.hidden = false;
  bar.value = 0;
  setStatus("Computing the image embedding…", "embedding");
  let done = false;
  const poll = async () => {
    while (!done && gen === state.generation) {
      try {
        const st = await api("GET", sessionPath(`/embed?slice=${state.slice}&window=${encodeURIComponent(state.window)}`));
        if (done) break;
        if (st.state === "computing" && st.expected_ms > 0) {
          bar.value = Math.round(100 * st.progress);
          setStatus(`Computing the image embedding… ${(st.elapsed_ms / 1000).toFixed(1)} s of about ${(st.expected_ms / 1000).toFixed(1)} s`, "embedding");
        } else if (st.state === "computing" || st.state === "queued") {
          bar.removeAttribute("value");
          setStatus(`Computing the image embedding (${st.state})… ${(st.elapsed_ms / 1000).toFixed(1)} s`, "embedding");
        }
      } catch (err) {
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  poll();
  try {
    const body = JSON.stringify({ slice: state.slice, window: state.window });
    const res = await api("POST", sessionPath("/embed"), body, { "Content-Type": "application/json" });
    done = true;
    if (gen !== state.generation) return;
    bar.value = 100;
    bar.hidden = true;
    setStatus(`Ready (embedding in ${(res.elapsed_ms / 1000).toFixed(2)} s). Click on the object.`, "ready");
  } catch (err) {
    done = true;
    bar.hidden = true;
    if (gen === state.generation) setStatus(`Embedding failed: ${err.message}`, "error");
  }
}

// fitCanvas scales the slice to the space left in the window, keeping its
// aspect ratio (small images are enlarged, large ones reduced).
function fitCanvas() {
  const c = $("image");
  if (!c.width || !c.height) return;
  const top = $("stage").getBoundingClientRect().top + window.scrollY;
  const availW = Math.max(100, document.documentElement.clientWidth - 32);
  const availH = Math.max(100, window.innerHeight - top - 48);
  const scale = Math.min(availW / c.width, availH / c.height);
  const w = Math.floor(c.width * scale);
  const h = Math.floor(c.height * scale);
  c.style.width = `${w}px`;
  c.style.height = `${h}px`;
  // The prompts layer draws at screen resolution, so that clicks and boxes
  // look the same whatever the image's size.
  const dpr = window.devicePixelRatio || 1;
  $("prompts").width = Math.round(w * dpr);
  $("prompts").height = Math.round(h * dpr);
  drawPrompts();
}

// imagePoint converts a mouse event to pixel indices of the slice.
function imagePoint(ev) {
  const { width, height } = state.session;
  const r = $("prompts").getBoundingClientRect();
  const x = Math.floor(((ev.clientX - r.left) * width) / r.width);
  const y = Math.floor(((ev.clientY - r.top) * height) / r.height);
  return [Math.max(0, Math.min(width - 1, x)), Math.max(0, Math.min(height - 1, y))];
}

let drag = null;

function onMouseDown(ev) {
  if (!state.session) return;
  ev.preventDefault();
  if (ev.button === 2) {
    const [x, y] = imagePoint(ev);
    addPoint(x, y, 0);
    return;
  }
  if (ev.button === 0) drag = { start: imagePoint(ev), startClient: [ev.clientX, ev.clientY], current: null };
}

function onMouseMove(ev) {
  if (!drag) return;
  const moved = Math.hypot(ev.clientX - drag.startClient[0], ev.clientY - drag.startClient[1]);
  if (moved >= 5) {
    drag.current = imagePoint(ev);
    drawPrompts(boxOf(drag.start, drag.current));
  }
}

function onMouseUp(ev) {
  if (!drag || ev.button !== 0) return;
  const d = drag;
  drag = null;
  if (d.current) {
    const box = boxOf(d.start, imagePoint(ev));
    state.history.push({ kind: "box", previous: state.box });
    state.box = box;
    changed();
  } else {
    addPoint(d.start[0], d.start[1], 1);
  }
}

function boxOf(a, b) {
  return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[0], b[0]), Math.max(a[1], b[1])];
}

function addPoint(x, y, label) {
  state.points.push({ x, y, label });
  state.history.push({ kind: "point" });
  changed();
}

function undo() {
  const last = state.history.pop();
  if (!last) return;
  if (last.kind === "point") state.points.pop();
  else state.box = last.previous;
  changed();
}

function clearAll() {
  state.points = [];
  state.box = null;
  state.history = [];
  changed();
}

// changed re-runs the model on the current prompts.
async function changed() {
  drawPrompts();
  const gen = state.generation;
  if (state.points.length === 0 && !state.box) {
    state.masks = [];
    state.chosen = -1;
    state.maskPoints = 0;
    renderMasks();
    drawMask(null);
    await keepLabel(null);
    setStatus("Cleared. Click on the object.", "ready");
    return;
  }
  // With "Candidate masks" on, the server decides (several candidates for
  // a single click, where the object is ambiguous; one mask otherwise).
  const req = { slice: state.slice, window: state.window, points: state.points };
  if (!$("multimask").checked) req.multimask = false;
  if (state.box) req.box = state.box;
  // A click added to the prompt refines the mask on screen: models that
  // take a previous mask (the built-in one) start from it.
  const shown = state.masks[state.chosen];
  if (shown && state.points.length === state.maskPoints + 1) req.previous = shown.png;
  const points = state.points.length;
  const ticket = ++state.predicting;
  setStatus("Segmenting…", "predicting");
  let res;
  try {
    res = await api("POST", sessionPath("/predict"), JSON.stringify(req), { "Content-Type": "application/json" });
  } catch (err) {
    if (ticket === state.predicting) setStatus(`Segmentation failed: ${err.message}`, "error");
    return;
  }
  if (ticket !== state.predicting || gen !== state.generation) return; // a newer click is under way
  state.masks = res.masks;
  state.chosen = res.best;
  state.maskPoints = points;
  renderMasks();
  try {
    await showChosen();
  } catch (err) {
    setStatus(`Showing the mask failed: ${err.message}`, "error");
    return;
  }
  setStatus(`Mask ${state.chosen + 1}: ${res.masks[state.chosen].area} pixels, score ${res.masks[state.chosen].score.toFixed(3)} (decoded in ${res.decode_ms.toFixed(0)} ms)`, "ready");
}

function renderMasks() {
  const box = $("masks");
  box.replaceChildren();
  if (state.masks.length < 2) return;
  state.masks.forEach((m, i) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = `Mask ${i + 1} · IoU ${m.score.toFixed(3)}`;
    b.setAttribute("aria-pressed", String(i === state.chosen));
    b.addEventListener("click", async () => {
      state.chosen = i;
      renderMasks();
      await showChosen();
    });
    box.append(b);
  });
}

async function showChosen() {
  const m = state.masks[state.chosen];
  const img = new Image();
  img.src = m.png;
  await img.decode();
  drawMask(img);
  await keepLabel(dataURLBlob(m.png));
}

// dataURLBlob turns a base64 data: URL into a Blob (fetching a data: URL
// is refused by the page's content security policy).
function dataURLBlob(url) {
  const [head, b64] = url.split(",", 2);
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Blob([bytes], { type: head.slice(5).split(";")[0] });
}

// drawMask paints the mask as a translucent overlay and records how many
// pixels it covers (data-mask-pixels), counted from the canvas itself.
function drawMask(img) {
  const c = $("mask");
  const ctx = c.getContext("2d");
  ctx.clearRect(0, 0, c.width, c.height);
  let count = 0;
  if (img) {
    const tmp = document.createElement("canvas");
    tmp.width = c.width;
    tmp.height = c.height;
    const tctx = tmp.getContext("2d");
    tctx.drawImage(img, 0, 0);
    const src = tctx.getImageData(0, 0, c.width, c.height).data;
    const out = ctx.createImageData(c.width, c.height);
    for (let i = 0; i < src.length; i += 4) {
      if (src[i] >= 128) {
        out.data[i] = 30;
        out.data[i + 1] = 144;
        out.data[i + 2] = 255;
        out.data[i + 3] = 120;
      }
    }
    ctx.putImageData(out, 0, 0);
    const drawn = ctx.getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < drawn.length; i += 4) if (drawn[i] > 0) count++;
  }
  c.dataset.maskPixels = String(count);
}

function drawPrompts(preview) {
  const c = $("prompts");
  const ctx = c.getContext("2d");
  ctx.clearRect(0, 0, c.width, c.height);
  if (!state.session) return;
  const f = c.width / state.session.width; // prompts-canvas pixels per image pixel
  const dpr = window.devicePixelRatio || 1;
  ctx.lineWidth = 2 * dpr;
  for (const b of [state.box, preview]) {
    if (!b) continue;
    ctx.strokeStyle = b === preview ? "#ffd54f" : "#ffb300";
    ctx.strokeRect(b[0] * f, b[1] * f, (b[2] - b[0] + 1) * f, (b[3] - b[1] + 1) * f);
  }
  for (const p of state.points) {
    ctx.beginPath();
    ctx.arc((p.x + 0.5) * f, (p.y + 0.5) * f, 5 * dpr, 0, 2 * Math.PI);
    ctx.fillStyle = p.label === 1 ? "#33d17a" : "#ff4040";
    ctx.fill();
    ctx.strokeStyle = "#000";
    ctx.stroke();
  }
}

// keepLabel stores the chosen mask as the slice's label on the server (so
// that the downloads hold it), or removes it.
async function keepLabel(blob) {
  const path = sessionPath(`/labels/${state.slice}`);
  try {
    if (blob) {
      await api("PUT", path, blob, { "Content-Type": "image/png" });
      state.kept.add(state.slice);
    } else {
      await api("DELETE", path);
      state.kept.delete(state.slice);
    }
  } catch (err) {
    setStatus(`Keeping the mask failed: ${err.message}`, "error");
  }
  updateDownloads();
}

function updateDownloads() {
  const png = $("download-png");
  const nii = $("download-nifti");
  if (!state.session) return;
  png.href = sessionPath(`/labels/${state.slice}.png`);
  png.download = `mask-slice${state.slice}.png`;
  nii.href = sessionPath("/labels/volume.nii.gz");
  nii.download = "mask.nii.gz";
  png.setAttribute("aria-disabled", String(!state.kept.has(state.slice)));
  nii.setAttribute("aria-disabled", String(state.kept.size === 0));
}

function init() {
  loadInfo();
  $("file").addEventListener("change", (ev) => upload(ev.target.files));
  $("example").addEventListener("click", tryExample);
  window.addEventListener("resize", fitCanvas);
  const prompts = $("prompts");
  prompts.addEventListener("mousedown", onMouseDown);
  window.addEventListener("mousemove", onMouseMove);
  window.addEventListener("mouseup", onMouseUp);
  prompts.addEventListener("contextmenu", (ev) => ev.preventDefault());
  $("undo").addEventListener("click", undo);
  $("clear").addEventListener("click", clearAll);
  $("slice").addEventListener("input", () => {
    $("slice-label").textContent = `${$("slice").value} / ${state.session.slices - 1}`;
  });
  $("slice").addEventListener("change", showSlice);
  $("window").addEventListener("change", showSlice);
  document.addEventListener("keydown", (ev) => {
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "z") {
      ev.preventDefault();
      undo();
    }
  });
  document.addEventListener("dragover", (ev) => {
    ev.preventDefault();
    document.body.classList.add("dragging");
  });
  document.addEventListener("dragleave", () => document.body.classList.remove("dragging"));
  document.addEventListener("drop", (ev) => {
    ev.preventDefault();
    document.body.classList.remove("dragging");
    upload(ev.dataTransfer.files);
  });
}

init();
