// glassnet playground: the page. It draws what the server's glassnet session sends; it computes
// nothing about the network itself. No libraries, no network beyond this server.
"use strict";

const CLASS_COLORS = ["#f59322", "#0877bd", "#2ca02c", "#9467bd", "#d62728",
                      "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];
const POS = [8, 119, 189], NEG = [245, 147, 34];
const $ = (id) => document.getElementById(id);

let ws = null, schema = null, setup = null, frame = null, config = {}, playing = false;
let pendingFrame = null, drawn = 0, lastFpsTime = performance.now();
let nodes = [], hoverTarget = null, probeInFlight = false, probeWanted = null;
let messages = {setup: [], runtime: []};

// ------------------------------------------------------------------ small helpers
function hexRgb(hex) { const n = parseInt(hex.slice(1), 16); return [n >> 16, (n >> 8) & 255, n & 255]; }
const CLASS_RGB = CLASS_COLORS.map(hexRgb);
function bytes(b64) { const s = atob(b64); const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i); return out; }
function floats(b64) { const b = bytes(b64); return new Float32Array(b.buffer, b.byteOffset, b.length / 4); }
function fmt(v, digits = 3) { return v === null || v === undefined ? "\u2013" : Number(v).toFixed(digits); }
function pct(v) { return v === null || v === undefined ? "\u2013" : (100 * v).toFixed(1) + "%"; }
function signed(v) { return (v < 0 ? "\u2212" : "+") + Math.abs(v).toFixed(3); }
function valueColor(v) {  // v in [-1, 1]: orange (negative) - white - blue (positive)
  const c = v >= 0 ? POS : NEG, t = Math.min(1, Math.abs(v));
  return [255 + (c[0] - 255) * t, 255 + (c[1] - 255) * t, 255 + (c[2] - 255) * t];
}
function showMessages() {
  const all = messages.setup.concat(messages.runtime);
  $("message").hidden = all.length === 0;
  $("message").textContent = all.join("\n");
}
function send(command) { if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(command)); }

// ------------------------------------------------------------------ the setup form
function nonDefaultQuery() {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(config)) if (schema.defaults[k] !== v) q.set(k, v);
  return q.toString();
}
function fillForm() {
  for (const el of document.querySelectorAll("[data-param]")) {
    const v = config[el.dataset.param];
    if (v === undefined) continue;
    if (el.type === "checkbox") el.checked = v === "1"; else el.value = v;
  }
  $("speed").value = config.speed;
  const widths = config.hidden ? config.hidden.split(",").map(Number) : [];
  const acts = config.activation.split(",");
  const box = $("layer-editors"); box.innerHTML = "";
  widths.forEach((w, i) => {
    const ed = document.createElement("div"); ed.className = "layer-editor";
    ed.innerHTML = `<div class="units"><button data-testid="remove-unit-${i}" title="fewer units">&minus;</button>` +
      `<span>${w}</span><button data-testid="add-unit-${i}" title="more units">+</button></div>`;
    const sel = document.createElement("select"); sel.dataset.testid = `activation-${i}`;
    for (const a of schema.choices.activation) sel.add(new Option(a, a));
    sel.value = acts.length === 1 ? acts[0] : acts[i];
    ed.appendChild(sel);
    const [minus, plus] = ed.querySelectorAll("button");
    minus.onclick = () => editLayer(i, -1);
    plus.onclick = () => editLayer(i, +1);
    sel.onchange = () => editActivation(i, sel.value);
    box.appendChild(ed);
    const column = nodes.find((n) => n.layer === i + 1);
    if (column) ed.style.left = (column.x + column.s / 2) + "px";
  });
  $("shape").textContent = setup ? `${setup.layers.join("\u2013")} \u00b7 ${setup.parameters} parameters` : "";
}
function layerArrays() {
  const widths = config.hidden ? config.hidden.split(",").map(Number) : [];
  let acts = config.activation.split(",");
  if (acts.length === 1) acts = widths.map(() => acts[0]);
  return [widths, acts];
}
function setLayers(widths, acts) {
  config.hidden = widths.join(",");
  config.activation = acts.length && acts.every((a) => a === acts[0]) ? acts[0] : (acts.join(",") || "relu");
  rebuild();
}
function editLayer(i, delta) {
  const [w, a] = layerArrays();
  w[i] = Math.max(1, Math.min(schema.limits.width, w[i] + delta)); setLayers(w, a);
}
function editActivation(i, name) { const [w, a] = layerArrays(); a[i] = name; setLayers(w, a); }
function rebuild() {
  const wasPlaying = playing;
  messages.runtime = [];
  send({type: "config", query: Object.assign({}, config, {autostart: "0"})});
  if (wasPlaying) send({type: "play"});
  history.replaceState(null, "", "/?" + nonDefaultQuery());
}
function initForm() {
  for (const [param, options] of Object.entries(schema.choices)) {
    const sel = $("f-" + param);
    if (sel) for (const o of options) sel.add(new Option(o === "csv" ? "your CSV" : o, o));
  }
  for (const el of document.querySelectorAll("[data-param]")) {
    el.addEventListener("change", () => {
      config[el.dataset.param] = el.type === "checkbox" ? (el.checked ? "1" : "0") : el.value.trim();
      rebuild();
    });
  }
  $("add-layer").onclick = () => {
    const [w, a] = layerArrays();
    if (w.length >= schema.limits.layers) return;
    w.push(4); a.push(a.length ? a[a.length - 1] : "relu"); setLayers(w, a);
  };
  $("remove-layer").onclick = () => { const [w, a] = layerArrays(); w.pop(); a.pop(); setLayers(w, a); };
  $("play").onclick = () => { playing = !playing; send({type: playing ? "play" : "pause"}); updatePlay(); };
  $("step").onclick = () => { playing = false; send({type: "step"}); updatePlay(); };
  $("reset").onclick = () => { playing = false; messages.runtime = []; showMessages(); send({type: "reset"}); updatePlay(); };
  $("speed").oninput = () => { config.speed = $("speed").value; send({type: "speed", value: Number(config.speed)});
    history.replaceState(null, "", "/?" + nonDefaultQuery()); };
  $("export").onclick = () => send({type: "export"});
  $("share").onclick = () => {
    const url = location.origin + "/?" + nonDefaultQuery();
    (navigator.clipboard ? navigator.clipboard.writeText(url) : Promise.reject()).then(
      () => flash("link copied: " + url), () => flash("link: " + url));
  };
  $("copy-code").onclick = () => { $("export-code").select();
    if (navigator.clipboard) navigator.clipboard.writeText($("export-code").value).catch(() => {}); };
  $("csv-file").onchange = () => {
    const file = $("csv-file").files[0];
    if (!file) return;
    if (file.size > 2e6) { messages.runtime = [`${file.name}: ${file.size} bytes is too big (at most 10,000 rows)`];
      showMessages(); return; }
    file.text().then((text) => { messages.runtime = []; send({type: "csv", name: file.name, text}); });
  };
  $("show-test").onchange = () => { if (frame) drawDecision(); };
}
function flash(text) { messages.runtime = [text]; showMessages(); setTimeout(() => { messages.runtime = []; showMessages(); }, 4000); }
const ICONS = {play: '<svg viewBox="0 0 24 24"><path d="M8 5v14l11-7z"/></svg>',
               pause: '<svg viewBox="0 0 24 24"><path d="M6 5h4v14H6zM14 5h4v14h-4z"/></svg>'};
function updatePlay() {
  const button = $("play");
  if (button.classList.contains("playing") === playing && button.dataset.drawn) return;
  button.dataset.drawn = "1"; button.classList.toggle("playing", playing);
  button.innerHTML = playing ? ICONS.pause : ICONS.play; button.setAttribute("aria-pressed", String(playing));
}

// ------------------------------------------------------------------ messages from the server
function onMessage(event) {
  const m = JSON.parse(event.data);
  if (m.type === "setup") {
    setup = m; config = m.config;
    setup.trainX = floats(m.train.x); setup.trainY = bytes(m.train.y);
    setup.testX = floats(m.test.x); setup.testY = bytes(m.test.y);
    messages.setup = m.errors;
    showMessages(); layoutNetwork(); fillForm();
    history.replaceState(null, "", "/?" + nonDefaultQuery());
  } else if (m.type === "frame") {
    pendingFrame = m;
    playing = m.playing; updatePlay();
  } else if (m.type === "probe") {
    probeInFlight = false;
    if (probeWanted) { const p = probeWanted; probeWanted = null; probe(p.x, p.y); }
    showHover(m);
  } else if (m.type === "export") {
    $("export-code").value = m.code; $("export-dialog").showModal();
  } else if (m.type === "error") {
    probeInFlight = false;
    messages.runtime = [m.message]; showMessages();
    if (m.message.startsWith("training stopped")) { playing = false; updatePlay(); }
  }
}

// ------------------------------------------------------------------ drawing
function render() {
  if (pendingFrame && setup) {
    frame = pendingFrame; pendingFrame = null;
    $("step-count").textContent = frame.step; $("epoch").textContent = frame.epoch;
    $("loss").textContent = fmt(frame.train_loss, 4); $("test-loss").textContent = fmt(frame.test_loss, 4);
    $("train-accuracy").textContent = pct(frame.train_accuracy);
    $("test-accuracy").textContent = pct(frame.test_accuracy);
    const start = performance.now();
    drawDecision(); drawNetwork(); drawCurves(); drawLayerStats(); drawWarp();
    drawn++;
    window.glassnetDrawMs = performance.now() - start;  // for benchmarks/playground_speed.py
    window.glassnetFramesDrawn = (window.glassnetFramesDrawn || 0) + 1;
    window.glassnetServerMs = frame.render_cpu_ms;
  }
  const now = performance.now();
  if (now - lastFpsTime >= 1000) {
    $("fps").textContent = (1000 * drawn / (now - lastFpsTime)).toFixed(1);
    drawn = 0; lastFpsTime = now;
  }
  requestAnimationFrame(render);
}
function regionImage() {  // the decision regions: class colours weighted by probability, paler when unsure
  const g = setup.grid, k = setup.classes, p = regionBytes(), entry = scratchCanvas("r", g), img = entry.img;
  for (let i = 0; i < g * g; i++) {
    let r = 0, gr = 0, b = 0, top = 0;
    for (let c = 0; c < k; c++) {
      const w = p[c * g * g + i] / 255; r += w * CLASS_RGB[c][0]; gr += w * CLASS_RGB[c][1]; b += w * CLASS_RGB[c][2];
      if (w > top) top = w;
    }
    const mix = 0.2 + 0.5 * Math.max(0, (top - 1 / k) / (1 - 1 / k));
    img.data[4 * i] = 255 + (r - 255) * mix; img.data[4 * i + 1] = 255 + (gr - 255) * mix;
    img.data[4 * i + 2] = 255 + (b - 255) * mix; img.data[4 * i + 3] = 255;
  }
  return finish(entry);
}
function imageCanvas(img) {
  const c = document.createElement("canvas"); c.width = img.width; c.height = img.height;
  c.getContext("2d").putImageData(img, 0, 0); return c;
}
function toCanvas(x, y, size) {  // plane point -> pixel in a size x size view
  const [x0, x1, y0, y1] = setup.bounds;
  return [(x - x0) / (x1 - x0) * size, (y1 - y) / (y1 - y0) * size];
}
function drawPoints(ctx, xs, ys, size, test) {
  for (let i = 0; i < ys.length; i++) {
    const [px, py] = toCanvas(xs[2 * i], xs[2 * i + 1], size);
    ctx.beginPath(); ctx.arc(px, py, test ? 3.6 : 3.2, 0, 2 * Math.PI);
    ctx.fillStyle = CLASS_COLORS[ys[i]]; ctx.fill();
    ctx.lineWidth = test ? 1.6 : 1; ctx.strokeStyle = test ? "#111" : "#fff"; ctx.stroke();
  }
}
function drawDecision() {
  const cv = $("decision"), ctx = cv.getContext("2d"), size = cv.width;
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(regionImage(), 0, 0, size, size);
  drawPoints(ctx, setup.trainX, setup.trainY, size, false);
  if ($("show-test").checked) drawPoints(ctx, setup.testX, setup.testY, size, true);
  const [x0, x1, y0, y1] = setup.bounds;
  ctx.fillStyle = "rgba(0,0,0,.55)"; ctx.font = "10px sans-serif";
  ctx.fillText(`x\u2081 ${x0.toFixed(1)} \u2026 ${x1.toFixed(1)}`, 4, size - 5);
  ctx.fillText(`x\u2082 ${y0.toFixed(1)} \u2026 ${y1.toFixed(1)}`, size - 84, 12);
}

// the network diagram: one column per layer, one heat map per neuron, weights as lines
function layoutNetwork() {
  const cv = $("network"), W = cv.width, H = cv.height, sizes = setup.layers, cols = sizes.length;
  nodes = [];
  sizes.forEach((n, li) => {
    const s = Math.max(9, Math.min(38, Math.floor((H - 16) / n) - 4));
    const x = 40 + li * (W - 80 - 38) / Math.max(1, cols - 1);
    const total = n * s + (n - 1) * Math.min(8, Math.max(2, s / 5));
    for (let j = 0; j < n; j++) {
      const y = (H - total) / 2 + j * (s + Math.min(8, Math.max(2, s / 5)));
      nodes.push({layer: li, unit: j, x, y, s});
    }
  });
}
const scratch = new Map();  // reused canvases and pixel buffers, one per size
function scratchCanvas(key, g) {
  let entry = scratch.get(key);
  if (!entry || entry.img.width !== g) {
    const canvas = document.createElement("canvas"); canvas.width = g; canvas.height = g;
    entry = {canvas, img: new ImageData(g, g)}; scratch.set(key, entry);
  }
  return entry;
}
function decoded(lv) { if (!lv.bytes) lv.bytes = bytes(lv.maps); return lv.bytes; }
function regionBytes() { if (!frame.regionBytes) frame.regionBytes = bytes(frame.regions); return frame.regionBytes; }
function finish(entry) { entry.canvas.getContext("2d").putImageData(entry.img, 0, 0); return entry.canvas; }
function neuronImage(layer, unit) {
  const lv = frame.layers[layer], g = lv.map_size, q = decoded(lv), entry = scratchCanvas("n", g), img = entry.img;
  const off = unit * g * g;
  for (let i = 0; i < g * g; i++) {
    const [r, gg, b] = valueColor(q[off + i] / 127.5 - 1);
    img.data[4 * i] = r; img.data[4 * i + 1] = gg; img.data[4 * i + 2] = b; img.data[4 * i + 3] = 255;
  }
  return finish(entry);
}
const inputImages = [];
function inputImage(axis) {
  if (inputImages[axis]) return inputImages[axis];
  const g = 32, img = new ImageData(g, g);
  for (let r = 0; r < g; r++) for (let c = 0; c < g; c++) {
    const v = axis === 0 ? (2 * c / (g - 1) - 1) : (1 - 2 * r / (g - 1));
    const [R, G, B] = valueColor(v), i = r * g + c;
    img.data[4 * i] = R; img.data[4 * i + 1] = G; img.data[4 * i + 2] = B; img.data[4 * i + 3] = 255;
  }
  inputImages[axis] = imageCanvas(img);
  return inputImages[axis];
}
function outputImage(unit) {
  const g = setup.grid, p = regionBytes(), entry = scratchCanvas("o", g), img = entry.img;
  const cls = setup.layers[setup.layers.length - 1] === 1 ? 1 : unit, col = CLASS_RGB[cls];
  for (let i = 0; i < g * g; i++) {
    const t = p[cls * g * g + i] / 255;
    img.data[4 * i] = 255 + (col[0] - 255) * t; img.data[4 * i + 1] = 255 + (col[1] - 255) * t;
    img.data[4 * i + 2] = 255 + (col[2] - 255) * t; img.data[4 * i + 3] = 255;
  }
  return finish(entry);
}
function drawNetwork() {
  const cv = $("network"), ctx = cv.getContext("2d");
  ctx.clearRect(0, 0, cv.width, cv.height);
  const byLayer = setup.layers.map((_, li) => nodes.filter((n) => n.layer === li));
  frame.weights.forEach((wb, li) => {  // weights of layer li+1: (out, in)
    let max = 1e-9;
    for (const row of wb.w) for (const v of row) max = Math.max(max, Math.abs(v));
    byLayer[li + 1].forEach((to, o) => byLayer[li].forEach((from, i) => {
      const w = wb.w[o][i], t = Math.abs(w) / max;
      ctx.strokeStyle = `rgba(${(w >= 0 ? POS : NEG).join(",")},${0.15 + 0.75 * t})`;
      ctx.lineWidth = 0.4 + 3.6 * t;
      ctx.beginPath(); ctx.moveTo(from.x + from.s, from.y + from.s / 2);
      const mid = (from.x + from.s + to.x) / 2;
      ctx.bezierCurveTo(mid, from.y + from.s / 2, mid, to.y + to.s / 2, to.x, to.y + to.s / 2); ctx.stroke();
    }));
  });
  ctx.imageSmoothingEnabled = true;
  const last = setup.layers.length - 1;
  for (const n of nodes) {
    const img = n.layer === 0 ? inputImage(n.unit) : n.layer === last ? outputImage(n.unit) : neuronImage(n.layer - 1, n.unit);
    ctx.drawImage(img, n.x, n.y, n.s, n.s);
    let border = "#9aa5b1", width = 1;
    if (n.layer > 0 && n.layer < last) {
      const lv = frame.layers[n.layer - 1];
      if (lv.dead[n.unit]) { border = "#d92d20"; width = 2.5; } else if (lv.saturated[n.unit]) { border = "#e6b800"; width = 2.5; }
    }
    if (hoverTarget && hoverTarget.node === n) { border = "#111"; width = 2; }
    ctx.strokeStyle = border; ctx.lineWidth = width; ctx.strokeRect(n.x, n.y, n.s, n.s);
  }
  ctx.fillStyle = "#6b7785"; ctx.font = "11px sans-serif"; ctx.textAlign = "center";
  setup.layers.forEach((n, li) => {
    const col = byLayer[li][0];
    const label = li === 0 ? "input" : li === last ? "output" : `${setup.activations[li - 1]} \u00b7 ${n}`;
    ctx.fillText(label, col.x + col.s / 2, 11);
  });
  ctx.textAlign = "right";
  byLayer[0].forEach((n, j) => ctx.fillText(j ? "x\u2082" : "x\u2081", n.x - 5, n.y + n.s / 2 + 4));
  ctx.textAlign = "left";
}

function drawCurves() {
  const cv = $("curves"), ctx = cv.getContext("2d"), W = cv.width, H = cv.height, h = frame.history;
  ctx.clearRect(0, 0, W, H);
  const L = 34, R = W - 30, T = 8, B = H - 18;
  ctx.strokeStyle = "#e3e7ec"; ctx.lineWidth = 1; ctx.strokeRect(L, T, R - L, B - T);
  if (h.length < 1) return;
  const maxStep = Math.max(1, h[h.length - 1][0]);
  let maxLoss = 1e-6;
  for (const row of h) for (const v of [row[1], row[2]]) if (v !== null && isFinite(v)) maxLoss = Math.max(maxLoss, v);
  const X = (s) => L + (R - L) * s / maxStep;
  const line = (idx, color, dash, scale) => {
    ctx.strokeStyle = color; ctx.setLineDash(dash); ctx.lineWidth = 1.6; ctx.beginPath();
    let started = false;
    for (const row of h) {
      if (row[idx] === null) continue;
      const y = B - (B - T) * Math.min(1, row[idx] / scale);
      if (!started) { ctx.moveTo(X(row[0]), y); started = true; } else ctx.lineTo(X(row[0]), y);
    }
    ctx.stroke(); ctx.setLineDash([]);
  };
  line(1, "#111", [], maxLoss); line(2, "#c0392b", [], maxLoss);
  line(3, "#111", [4, 3], 1); line(4, "#c0392b", [4, 3], 1);
  ctx.fillStyle = "#6b7785"; ctx.font = "10px sans-serif";
  ctx.fillText(maxLoss.toPrecision(2), 2, T + 8); ctx.fillText("0", 2, B);
  ctx.fillText("100%", R + 3, T + 8); ctx.fillText("0%", R + 3, B);
  ctx.textAlign = "right"; ctx.fillText("step " + maxStep, R, H - 4); ctx.textAlign = "left";
}

function drawHistogram(cv, hist, color, title) {
  const ctx = cv.getContext("2d"), W = cv.width, H = cv.height;
  ctx.clearRect(0, 0, W, H);
  const counts = hist.counts, max = Math.max(1, ...counts), bw = (W - 8) / counts.length;
  ctx.fillStyle = color;
  counts.forEach((c, i) => { const bh = (H - 26) * c / max; ctx.fillRect(4 + i * bw, H - 14 - bh, Math.max(1, bw - 1), bh); });
  ctx.fillStyle = "#6b7785"; ctx.font = "10px sans-serif";
  ctx.fillText(title + (hist.zeros > 0.005 ? ` \u00b7 ${(100 * hist.zeros).toFixed(0)}% exactly 0 (not drawn)` : ""), 4, 10);
  ctx.fillText(hist.low.toPrecision(2), 4, H - 2);
  ctx.textAlign = "right"; ctx.fillText(hist.high.toPrecision(2), W - 4, H - 2); ctx.textAlign = "left";
  if (hist.low < 0 && hist.high > 0) {  // mark zero
    const x0 = 4 + (W - 8) * (-hist.low) / (hist.high - hist.low);
    ctx.strokeStyle = "#9aa5b1"; ctx.beginPath(); ctx.moveTo(x0, 12); ctx.lineTo(x0, H - 14); ctx.stroke();
  }
}
function drawLayerStats() {
  const box = $("layer-stats");
  if (box.children.length !== frame.layers.length) {
    box.innerHTML = "";
    if (!frame.layers.length) box.innerHTML = '<p class="hint">No hidden layers: the output is a linear function of x\u2081, x\u2082.</p>';
    frame.layers.forEach((_, i) => {
      const row = document.createElement("div"); row.className = "layer-row";
      row.innerHTML = `<div class="name"></div><canvas width="240" height="74"></canvas><canvas width="240" height="74"></canvas>`;
      box.appendChild(row);
    });
  }
  frame.layers.forEach((lv, i) => {
    const row = box.children[i], [a, g] = row.querySelectorAll("canvas");
    const dead = lv.dead.filter(Boolean).length, sat = lv.saturated.filter(Boolean).length, n = lv.dead.length;
    const status = lv.activation === "tanh" || lv.activation === "sigmoid"
      ? `<span class="status ${sat ? "bad" : ""}">${sat} of ${n} saturated</span>`
      : `<span class="status ${dead ? "bad" : ""}">${dead} of ${n} dead</span>`;
    row.querySelector(".name").innerHTML = `layer ${i + 1} \u00b7 ${lv.activation}${status}` +
      `<span class="status">rms \u2202C/\u2202z ${lv.grad_rms.toExponential(1)}</span>`;
    drawHistogram(a, lv.a_hist, "#0877bd", "activations a");
    drawHistogram(g, lv.grad_hist, "#7b4fb5", "gradients \u2202C/\u2202z");
  });
}

function drawWarp() {
  const cv = $("warp"), ctx = cv.getContext("2d"), W = cv.width;
  ctx.clearRect(0, 0, W, W);
  $("warp-hint").hidden = frame.warps.length > 0;
  cv.hidden = frame.warps.length === 0;
  if (!frame.warps.length) return;
  const wp = frame.warps[0], lines = floats(wp.lines), pts = floats(wp.points);
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const arr of [lines, pts]) for (let i = 0; i < arr.length; i += 2) {
    x0 = Math.min(x0, arr[i]); x1 = Math.max(x1, arr[i]); y0 = Math.min(y0, arr[i + 1]); y1 = Math.max(y1, arr[i + 1]);
  }
  const span = Math.max(x1 - x0, y1 - y0, 1e-6) * 1.08, cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  const P = (x, y) => [(x - cx) / span * W + W / 2, W / 2 - (y - cy) / span * W];
  ctx.strokeStyle = "rgba(60,70,80,.35)"; ctx.lineWidth = 1;
  for (let l = 0; l < wp.line_count; l++) {
    ctx.beginPath();
    for (let p = 0; p < wp.line_points; p++) {
      const i = 2 * (l * wp.line_points + p), [px, py] = P(lines[i], lines[i + 1]);
      if (p === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
    }
    ctx.stroke();
  }
  for (let i = 0; i < setup.trainY.length; i++) {
    const [px, py] = P(pts[2 * i], pts[2 * i + 1]);
    ctx.beginPath(); ctx.arc(px, py, 2.8, 0, 2 * Math.PI); ctx.fillStyle = CLASS_COLORS[setup.trainY[i]]; ctx.fill();
  }
  ctx.fillStyle = "#6b7785"; ctx.font = "10px sans-serif";
  ctx.fillText(`hidden layer ${wp.layer + 1}: (a\u2081, a\u2082)`, 4, 11);
}

// ------------------------------------------------------------------ hover read-outs
function probe(x, y) {
  if (probeInFlight) { probeWanted = {x, y}; return; }
  probeInFlight = true; send({type: "probe", x, y});
}
function planePoint(fx, fy) {  // fractions of a view -> plane point
  const [x0, x1, y0, y1] = setup.bounds;
  return [x0 + fx * (x1 - x0), y1 - fy * (y1 - y0)];
}
function onNetworkMove(ev) {
  if (!setup || !frame) return;
  const r = $("network").getBoundingClientRect(), mx = ev.clientX - r.left, my = ev.clientY - r.top;
  const node = nodes.find((n) => mx >= n.x && mx <= n.x + n.s && my >= n.y && my <= n.y + n.s);
  if (!node) { hoverTarget = null; $("hover").hidden = true; return; }
  const [x, y] = planePoint((mx - node.x) / node.s, (my - node.y) / node.s);
  hoverTarget = {node, px: mx, py: my, view: "network"};
  probe(x, y);
}
function onDecisionMove(ev) {
  if (!setup || !frame) return;
  const cv = $("decision"), r = cv.getBoundingClientRect();
  const [x, y] = planePoint((ev.clientX - r.left) / r.width, (ev.clientY - r.top) / r.height);
  hoverTarget = {node: null, view: "decision"};
  probe(x, y);
}
function showHover(p) {
  const box = $("hover");
  if (!hoverTarget) { box.hidden = true; return; }
  const n = hoverTarget.node, last = setup.layers.length - 1;
  const head = `at (x\u2081, x\u2082) = (${p.x.toFixed(2)}, ${p.y.toFixed(2)})`;
  const probs = p.probabilities.map((v, k) => `<span style="color:${CLASS_COLORS[k]}">\u25cf</span> ${(100 * v).toFixed(1)}%`).join(" ");
  let html;
  if (!n || n.layer === last) {
    html = `<b>output</b> ${head}<br>class probabilities ${probs}`;
  } else if (n.layer === 0) {
    html = `<b>input x${n.unit ? "\u2082" : "\u2081"}</b> ${head}<br>value ${(n.unit ? p.y : p.x).toFixed(3)}`;
  } else {
    const L = p.layers[n.layer - 1], j = n.unit, wb = frame.weights[n.layer - 1];
    const inputs = n.layer === 1 ? [p.x, p.y] : p.layers[n.layer - 2].a;
    const names = n.layer === 1 ? ["x\u2081", "x\u2082"] : inputs.map((_, i) => `h${i + 1}`);
    let terms = inputs.map((v, i) => ({w: wb.w[j][i], v, name: names[i]}));
    let more = "";
    if (terms.length > 4) {
      terms = terms.slice().sort((a, b) => Math.abs(b.w * b.v) - Math.abs(a.w * a.v)).slice(0, 3);
      more = ` + \u2026 (${inputs.length - 3} more)`;
    }
    const formula = terms.map((t, i) => `${i ? signed(t.w).replace(/^[+]/, "+ ").replace(/^\u2212/, "\u2212 ") : t.w.toFixed(3)}\u00b7${t.name}`).join(" ") +
      more + ` ${signed(wb.b[j]).replace(/^[+]/, "+ ").replace(/^\u2212/, "\u2212 ")}`;
    const act = setup.activations[n.layer - 1];
    const bn = config.batchnorm === "1" ? `<br>z = BN(w\u00b7x + b) = <b>${L.z[j].toFixed(4)}</b>` : "";
    const slope = frame.layers[n.layer - 1].slopes ? ` (learned slope ${frame.layers[n.layer - 1].slopes[j].toFixed(3)})` : "";
    html = `<b>layer ${n.layer}, unit ${j + 1}</b> \u00b7 ${act}${slope}<br>${head}` +
      `<div class="formula">w\u00b7x + b = ${formula}</div>w\u00b7x + b = <b>${L.u[j].toFixed(4)}</b>${bn}` +
      `<br>activation a = ${act}(z) = <b>${L.a[j].toFixed(4)}</b>` +
      `<br>gradient \u2202C/\u2202z = <b>${L.dz[j].toExponential(3)}</b> <span class="dim">(label ${setup.class_names[p.label]}, nearest training point)</span>`;
  }
  box.innerHTML = html; box.hidden = false;
  const wrap = $("network").getBoundingClientRect();
  if (hoverTarget.view === "network") {
    box.style.left = Math.min(hoverTarget.px + 16, wrap.width - 250) + "px"; box.style.top = (hoverTarget.py + 14) + "px";
  } else {
    box.style.left = (wrap.width - 250) + "px"; box.style.top = "8px";
  }
}

// ------------------------------------------------------------------ start
function connect() {
  ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  ws.onopen = () => send({type: "config", query: Object.fromEntries(new URLSearchParams(location.search))});
  ws.onmessage = onMessage;
  ws.onclose = () => { messages.runtime = ["the connection to the playground server is closed: restart `glassnet playground` and reload"]; showMessages(); };
}
fetch("/api/schema").then((r) => r.json()).then((s) => {
  schema = s; initForm(); connect(); requestAnimationFrame(render);
  $("network").addEventListener("mousemove", onNetworkMove);
  $("network").addEventListener("mouseleave", () => { hoverTarget = null; $("hover").hidden = true; });
  $("decision").addEventListener("mousemove", onDecisionMove);
  $("decision").addEventListener("mouseleave", () => { hoverTarget = null; $("hover").hidden = true; });
});
