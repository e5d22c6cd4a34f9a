"use strict";
// viz.walk's page. DATA (written by viz/walk.py): tensors T, the engine's steps S (step 0 is the seed),
// and one view per fold level: its Graphviz SVG and its folded modules ("boxes", each of member tensors).
const T = DATA.tensors, S = DATA.steps, N = S.length - 1, V = DATA.views;
const SVGNS = "http://www.w3.org/2000/svg";

// ---------------------------------------------------------------------------- formatting
function fmt(v) {
  if (v === null || v === undefined) return "-";
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v.toPrecision(4);
}
function fmtShape(s) { return "(" + s.join(", ") + (s.length === 1 ? ",)" : ")"); }
function esc(s) { return String(s).replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c])); }
function statsTable(s, id) {
  if (s.size === 1) return `<table class="stats" id="${id}"><tr data-stat="value"><td class="k">value</td><td class="v">${fmt(s.values[0])}</td></tr></table>`;
  const rows = ["mean", "std", "min", "max", "norm"].map(k =>
    `<tr data-stat="${k}"><td class="k">${k}</td><td class="v">${fmt(s[k])}</td></tr>`).join("");
  let extra = "";
  if (s.values) extra += `<tr data-stat="values"><td class="k">values</td><td class="v mono">[${s.values.map(fmt).join(", ")}]</td></tr>`;
  if (s.nan || s.inf) extra += `<tr><td class="k warn">non-finite</td><td class="v warn">${s.nan} NaN, ${s.inf} Inf</td></tr>`;
  return `<table class="stats" id="${id}">${rows}${extra}</table>`;
}
function histogram(s, color) {
  if (!s.hist || s.size <= 6) return "";
  const c = s.hist.counts, W = 200, H = 36, w = W / c.length, top = Math.max(...c, 1);
  const bars = c.map((n, i) => `<rect x="${(i * w).toFixed(1)}" y="${(H - H * n / top).toFixed(1)}" width="${(w - 1).toFixed(1)}" height="${(H * n / top).toFixed(1)}" fill="${color}"/>`).join("");
  return `<svg class="hist" width="${W}" height="${H + 12}" viewBox="0 0 ${W} ${H + 12}">${bars}` +
    `<text x="0" y="${H + 11}" font-size="9" fill="#666">${fmt(s.hist.lo)}</text>` +
    `<text x="${W}" y="${H + 11}" font-size="9" fill="#666" text-anchor="end">${fmt(s.hist.hi)}</text></svg>`;
}

// ---------------------------------------------------------------------------- the current view
// a view: its svg element, node and edge elements by Graphviz id, which tensor each node shows, and
// its steps: runs of the engine's steps, one per tensor, or one per visit of a folded module
let view, viewKey, svg, graph0, nodes, edges, edgeList, clusterEls, tensorOf, boxOf, groups, groupOf;
let edgeFirst, edgeGroups, edgeText, hexStep, badges, badgeLayer, natural;
let pos = 0, step = 0, timer = null, selected = null, hovered = null, zoom = 1;

function nodeFor(i) { return i === null ? "cut" : boxOf[i] || T[i].node || "cut"; }   // the node showing tensor i

function showView(key, engineStep) {
  view = V[key]; viewKey = key;
  const holder = document.getElementById("graph");
  holder.innerHTML = view.svg;
  svg = holder.querySelector("svg");
  graph0 = svg.querySelector("g.graph");
  nodes = {}; edges = {}; edgeList = []; clusterEls = {}; tensorOf = {}; boxOf = {};
  for (const g of svg.querySelectorAll("g.node")) nodes[g.querySelector("title").textContent] = g;
  for (const g of svg.querySelectorAll("g.edge")) {
    const key = g.querySelector("title").textContent, [a, b] = key.split("->");
    (edges[key] = edges[key] || []).push(g);
    edgeList.push({g, a, b});
    const text = g.querySelector("text");
    if (text) g.dataset.label = text.textContent;
  }
  for (const g of svg.querySelectorAll("g.cluster")) clusterEls[g.querySelector("title").textContent.replace(/^cluster_/, "")] = g;
  T.forEach((t, i) => { if (t.node && nodes[t.node]) tensorOf[t.node] = i; });
  for (const [id, box] of Object.entries(view.boxes)) {
    for (const i of box.members.concat(box.params)) boxOf[i] = id;
    if (nodes[id]) nodes[id].classList.add("w-box");
  }
  group();
  mapEdges();
  makeBadges();
  wireNodes();
  natural = {w: svg.width.baseVal.value, h: svg.height.baseVal.value};
  fitWidth();
  renderModules();
  document.getElementById("depth").value = view.level ? key : "";
  go(groupOf[Math.max(0, Math.min(N, engineStep))]);
}

function group() {  // the view's steps: consecutive engine steps inside one folded module are one step
  groups = [[0]]; groupOf = [0];
  for (let k = 1; k <= N; k++) {
    const box = boxOf[S[k].t], last = groups[groups.length - 1];
    if (box && k > 1 && boxOf[S[last[0]].t] === box && last[0] !== 0) last.push(k);
    else groups.push([k]);
    groupOf[k] = groups.length - 1;
  }
  const slider = document.getElementById("slider");
  slider.max = groups.length - 1;
}

function mapEdges() {  // which edge carries each send, at which engine step and view step
  edgeFirst = new Map(); edgeGroups = new Map(); edgeText = new Map(); hexStep = {};
  const mark = (e, k, text) => {
    if (!e) return;
    if (!edgeFirst.has(e) || edgeFirst.get(e) > k) edgeFirst.set(e, k);
    if (!edgeGroups.has(e)) edgeGroups.set(e, new Set());
    edgeGroups.get(e).add(groupOf[k]);
    if (text) edgeText.set(e, text);
  };
  if (T[0].node) {
    const seed = "seed" + T[0].node.slice(1);
    mark((edges[seed + "->" + nodeFor(0)] || [])[0], 0, "");
  }
  S.forEach((st, k) => st.sends.forEach(s => {
    const from = nodeFor(st.t), to = nodeFor(s.to);
    if (from === to) return;                                   // inside a folded module
    const adds = s.acc ? `  (use ${s.use} of ${T[s.to].uses}: adds up)` : "";
    const hex = from + "_sum" + s.index;
    if (s.summed && nodes[hex]) {
      mark((edges[from + "->" + hex] || [])[0], k, fmtShape(s.raw) + "  " + s.adjoint);
      mark((edges[hex + "->" + to] || [])[0], k, fmtShape(s.shape) + "  summed" + adds);
      hexStep[hex] = k;
      return;
    }
    const list = edges[from + "->" + to] || [];
    const e = boxOf[st.t] ? list[0] : list[Math.min(s.occurrence, list.length - 1)];
    mark(e, k, fmtShape(s.shape) + "  " + (boxOf[st.t] ? "from " + view.boxes[boxOf[st.t]].label : s.adjoint) + adds);
  }));
}

function makeBadges() {  // a badge over each tensor's node with its gradient, shown once it is complete
  badges = {}; badgeLayer = document.createElementNS(SVGNS, "g");
  for (const [id, i] of Object.entries(tensorOf)) {
    const g = nodes[id], t = T[i];
    if (!g || !t.grad || boxOf[i]) continue;
    const box = g.getBBox(), text = document.createElementNS(SVGNS, "text");
    const beside = DATA.rankdir === "TB" || DATA.rankdir === "BT";   // clear of the edges: beside or above
    text.setAttribute("x", beside ? box.x + box.width + 3 : box.x + 2);
    text.setAttribute("y", beside ? box.y + 9 : box.y - 3);
    text.setAttribute("class", "gbadge");
    text.textContent = t.grad.size === 1 ? `grad ${fmt(t.grad.values[0])}` : `|grad| ${fmt(t.grad.norm)}`;
    badgeLayer.appendChild(text);
    badges[id] = text;
  }
  graph0.appendChild(badgeLayer);
}

// ---------------------------------------------------------------------------- the step control
const slider = document.getElementById("slider");
function go(p) {
  pos = Math.max(0, Math.min(groups.length - 1, p));
  const run = groups[pos];
  step = run[run.length - 1];
  slider.value = pos;
  document.getElementById("stepno").textContent = `step ${pos} / ${groups.length - 1}`;
  paint();
  showStep();
  const el = nodes[currentNode()];
  if (el && el.scrollIntoView) el.scrollIntoView({block: "center", inline: "center"});
  renderPanel();
}
function currentBox() { return pos > 0 ? boxOf[S[groups[pos][0]].t] : undefined; }
function currentNode() {
  if (pos === 0) return T[0].node ? "seed" + T[0].node.slice(1) : "cut";
  return nodeFor(S[step].t);
}
function stateOf(t) {
  if (t.visit === step) return "w-current";
  if (t.first === null || t.first > step) return "w-pending";
  if (t.done > step) return "w-partial";
  return t.visit !== null && t.visit < step ? "w-complete w-visited" : "w-complete";
}
function boxState(id) {
  if (currentBox() === id) return "w-current";
  const members = view.boxes[id].members.map(i => T[i]);
  if (members.every(t => t.done !== null && t.done <= step)) return "w-complete";
  return members.some(t => t.first !== null && t.first <= step) ? "w-partial" : "w-pending";
}
const STATES = ["w-current", "w-summing", "w-pending", "w-partial", "w-complete", "w-visited", "w-receiving",
                "h-nonfinite", "h-vanishing", "h-exploding"];
function paint() {
  const receiving = new Set();
  for (const k of groups[pos]) for (const s of S[k].sends) if (nodeFor(s.to) !== nodeFor(S[k].t)) receiving.add(nodeFor(s.to));
  const cur = currentNode();
  for (const [id, g] of Object.entries(nodes)) {
    g.classList.remove(...STATES);
    let cls = [];
    if (id in view.boxes) {
      cls = [boxState(id)];
    } else if (id in tensorOf) {
      const t = T[tensorOf[id]];
      cls = stateOf(t).split(" ");
      if (t.health && t.health[0] && t.done !== null && t.done <= step) cls.push("h-" + t.health[0]);
    } else if (id.startsWith("seed")) {
      cls = pos === 0 ? ["w-current"] : ["w-complete", "w-visited"];
    } else if (id in hexStep) {
      cls = [groupOf[hexStep[id]] === pos ? "w-summing" : hexStep[id] < step ? "w-complete" : "w-pending"];
    } else if (id === "cut") {
      cls = [cur === "cut" ? "w-current" : "w-complete"];
    }
    if (receiving.has(id)) cls.push("w-receiving");
    if (badges[id]) badges[id].classList.toggle("w-hidden", !cls.includes("w-complete") && !cls.includes("w-current"));
    g.classList.add(...cls);
  }
  for (const {g} of edgeList) {
    g.classList.remove("w-active", "w-future");
    const text = g.querySelector("text:not(.bg)"), bg = g.querySelector("text.bg");
    if (bg) bg.remove();
    if (text) text.textContent = g.dataset.label;
    if (!edgeFirst.has(g)) continue;
    if (edgeFirst.get(g) > step) g.classList.add("w-future");
    if (edgeGroups.get(g).has(pos)) {
      g.classList.add("w-active");
      if (text && edgeText.has(g)) {
        text.textContent = edgeText.get(g);
        const halo = text.cloneNode(true);           // a white halo so the longer label stays legible
        halo.classList.add("bg");
        g.insertBefore(halo, text);
      }
    }
  }
}

function sendItem(s, from) {
  const x = T[s.to];
  if (!x) return `<li data-to="cut">to input ${s.index} (not drawn): <span class="mono">${fmtShape(s.shape)}</span></li>`;
  let c = "";
  if (s.summed) c += `<span class="callout sum">un-broadcast: the engine sums ${fmtShape(s.raw)} &rarr; ${fmtShape(s.shape)}</span>`;
  if (s.scatter) c += `<span class="callout scatter">scatter-add: each row of g adds into the row it was gathered from (repeated indices add up)</span>`;
  if (s.acc) c += `<span class="callout acc">accumulates: use ${s.use} of ${x.uses} of ${esc(x.name)}; this gradient adds to the one already there</span>`;
  if (x.done === step) c += `<span class="callout done">${esc(x.name)}'s gradient is now complete</span>`;
  const stats = s.stats.norm === undefined ? "" : `<span class="hint">mean ${fmt(s.stats.mean)}, norm ${fmt(s.stats.norm)}</span>`;
  return `<li data-to="${s.to}">${from}to input ${s.index} <b>${esc(x.name)}</b>: <span class="mono">${fmtShape(s.shape)}</span>, ` +
         `<code>${esc(s.adjoint)}</code> ${stats}<br>${c}</li>`;
}
function showStep() {
  const box = document.getElementById("step"), st = S[step], t = T[st.t];
  if (pos === 0) {
    box.innerHTML = `<h2 id="step-title">Step 0: the seed</h2><p>The walk starts at <b id="step-node">${esc(t.name)}</b> ` +
      `with d${esc(t.name)}/d${esc(t.name)} = 1 (shape <span id="step-shape">${fmtShape(t.data.shape)}</span>).</p>` +
      statsTable({mean: 1, std: 0, min: 1, max: 1, norm: Math.sqrt(t.data.size), size: t.data.size, values: [1]}, "step-grad");
    return;
  }
  const folded = currentBox();
  if (folded) { box.innerHTML = foldedStep(folded); wireUnfold(folded); return; }
  let h = `<h2 id="step-title">Step ${pos} of ${groups.length - 1}: visit <span id="step-node">${esc(t.name)}</span></h2>`;
  if (!t.node) h += `<p class="hint">(not drawn: max_nodes=${DATA.max_nodes})</p>`;
  h += `<p>${t.op ? `<code>${esc(t.op)}</code> backward: <code id="step-adjoint">${esc(t.adjoint)}</code>` : `a leaf: its gradient is accumulated into <code>${esc(t.name)}.grad</code>`}</p>`;
  const g = t.grad;
  h += `<h3>its gradient (complete) <span id="step-shape" class="mono">${fmtShape(g ? g.shape : t.data.shape)}</span></h3>`;
  h += g ? statsTable(g, "step-grad") : `<p class="hint">not recorded: the graph was freed before viz.walk</p>`;
  if (t.uses > 1) h += `<span class="callout acc">${t.uses} uses: ${t.uses} gradients added up into it</span>`;
  if (t.health && t.health[1]) h += `<p class="warn">${esc(t.health[1])}</p>`;
  if (st.sends.length) h += `<h3>sends</h3><ul class="sends" id="step-sends">${st.sends.map(s => sendItem(s, "")).join("")}</ul>`;
  else if (t.op) h += `<p class="hint">no input needs a gradient</p>`;
  box.innerHTML = h;
}
function foldedStep(id) {  // a folded module's visit: one step, its inner steps listed, openable
  const b = view.boxes[id], run = groups[pos], first = T[S[run[0]].t];
  let h = `<h2 id="step-title">Step ${pos} of ${groups.length - 1}: <span id="step-node">${esc(b.label)}</span> backward</h2>`;
  h += `<p>${run.length} of its ${b.members.length} op${b.members.length === 1 ? "" : "s"} run their rules here. It receives the gradient of ` +
       `<b>${esc(first.name)}</b> <span id="step-shape" class="mono">${fmtShape(first.data.shape)}</span>:</p>`;
  h += first.grad ? statsTable(first.grad, "step-grad") : `<p class="hint">not recorded</p>`;
  h += `<button id="step-unfold">open ${esc(b.label)}</button>`;
  h += `<h3>inside, in the engine's order</h3><ol class="inner" id="step-inner">` +
       run.map(k => `<li>${esc(T[S[k].t].name)} <span class="hint">${esc(T[S[k].t].op || "leaf")}</span></li>`).join("") + "</ol>";
  const out = [];
  for (const k of run) for (const s of S[k].sends) if (nodeFor(s.to) !== id) out.push(sendItem(s, `${esc(T[S[k].t].name)} `));
  if (out.length) h += `<h3>sends out of it</h3><ul class="sends" id="step-sends">${out.join("")}</ul>`;
  return h;
}
function wireUnfold(id) {
  const b = document.getElementById("step-unfold");
  if (b) b.addEventListener("click", () => unfold(view.boxes[id].scope, groups[pos][0]));
}

// ---------------------------------------------------------------------------- the tensor panel
function renderPanel() {
  const box = document.getElementById("panel");
  const folded = currentBox();
  const shown = hovered !== null ? hovered : selected !== null ? selected : folded ? {box: folded} : {tensor: S[step].t};
  if (shown.box) { box.innerHTML = boxPanel(shown.box); return; }
  const t = T[shown.tensor];
  let h = `<h2 id="panel-name">${esc(t.name)}</h2><p>`;
  h += {root: "the loss", param: "leaf (requires grad)", inter: `made by <code>${esc(t.op)}</code>`}[t.kind];
  if (t.scope) h += ` in <code>${esc(t.scope)}</code>`;
  h += `<br>shape <span id="panel-shape" class="mono">${fmtShape(t.data.shape)}</span>, dtype <span id="panel-dtype">${esc(t.data.dtype)}</span></p>`;
  h += `<h3>data</h3>` + statsTable(t.data, "panel-data") + histogram(t.data, "#7aa6d8");
  if (t.grad) {
    const when = t.done === null ? "" : t.done <= step ? "complete" : `complete at step ${groupOf[t.done]}`;
    h += `<h3>grad <span class="hint">(${when}; visited at step ${groupOf[t.visit]})</span></h3>` + statsTable(t.grad, "panel-grad") + histogram(t.grad, "#e6a04a");
  } else {
    h += `<h3>grad</h3><p class="hint">${t.visit !== null ? "not recorded (the graph was freed before viz.walk)" : "no gradient reaches it"}</p>`;
  }
  if (t.ratio) h += `<p>grad:data ratio <span id="panel-ratio">${fmt(t.ratio.std)}</span> <span class="hint">(std(grad) / std(data))</span>, ` +
                    `|grad| / |data| <span id="panel-norm-ratio">${fmt(t.ratio.norm)}</span></p>`;
  if (t.health && t.health[1]) h += `<p class="warn" id="panel-health">${esc(t.health[1])}</p>`;
  box.innerHTML = h;
}
function boxPanel(id) {
  const b = view.boxes[id];
  const ops = b.members.length === 1 ? "1 op" : `${b.members.length} ops`;
  let h = `<h2 id="panel-name">${esc(b.label)}</h2><p>a folded module: ${ops} (click it to open it)</p>`;
  if (b.params.length) {
    h += `<h3>parameters</h3><table class="stats" id="panel-params">` + b.params.map(i =>
      `<tr><td class="k mono">${esc(T[i].name)}</td><td class="mono">${fmtShape(T[i].data.shape)}</td>` +
      `<td class="v">${T[i].grad && T[i].done !== null && T[i].done <= step ? "|grad| " + fmt(T[i].grad.norm) : ""}</td></tr>`).join("") + "</table>";
  }
  return h;
}

// ---------------------------------------------------------------------------- the path from the loss
function select(what) {
  selected = what;
  for (const g of svg.querySelectorAll(".w-path, .w-selected")) g.classList.remove("w-path", "w-selected");
  const id = what === null ? null : what.box || T[what.tensor].node;
  if (id && nodes[id]) {
    const onPath = new Set([id]), into = {};
    for (const e of edgeList) (into[e.b] = into[e.b] || []).push(e.a);
    const todo = [id];
    while (todo.length) for (const a of into[todo.pop()] || []) if (!onPath.has(a)) { onPath.add(a); todo.push(a); }
    for (const n of onPath) nodes[n] && nodes[n].classList.add("w-path");
    for (const e of edgeList) if (onPath.has(e.a) && onPath.has(e.b)) e.g.classList.add("w-path");
    nodes[id].classList.add("w-selected");
  }
  renderPanel();
}
function wireNodes() {
  for (const [id, g] of Object.entries(nodes)) {
    const what = id in view.boxes ? {box: id} : id in tensorOf ? {tensor: tensorOf[id]} : null;
    if (!what) continue;
    g.addEventListener("mouseenter", () => { hovered = what; renderPanel(); });
    g.addEventListener("mouseleave", () => { hovered = null; renderPanel(); });
    g.addEventListener("click", ev => {
      ev.stopPropagation();
      if (what.box) unfold(view.boxes[id].scope, null); else select(what);
    });
  }
  for (const [scope, c] of Object.entries(clusterEls)) {
    const label = c.querySelector("text");
    if (label) label.addEventListener("click", ev => { ev.stopPropagation(); fold(scope); });
  }
  svg.addEventListener("click", () => select(null));
}

// ---------------------------------------------------------------------------- folding: switch to another laid-out view
function keyOf(folded) { return [...folded].sort().join("|"); }
function inScope(scope, s) { return s === scope || s.startsWith(scope + "."); }
function depthOf(scope) { return scope.split(".").length - 1; }
function levelKey(depth) {  // the view of a whole depth, or of every op
  const found = Object.entries(V).find(([, v]) => v.level && v.depth === depth);
  return found ? found[0] : "";
}
function switchTo(key, fallbackDepth, engineStep) {
  hovered = null; selected = null;
  showView(key in V ? key : levelKey(fallbackDepth), engineStep === null ? step : engineStep);
}
function unfold(scope, engineStep) {
  const children = DATA.scopes.filter(s => s.startsWith(scope + ".") && depthOf(s) === depthOf(scope) + 1);
  const folded = view.folded.filter(s => s !== scope).concat(children);
  switchTo(keyOf(folded), depthOf(scope) + 1, engineStep);
}
function fold(scope) {
  const folded = view.folded.filter(s => !inScope(scope, s)).concat([scope]);
  switchTo(keyOf(folded), depthOf(scope), null);
}
function renderModules() {
  const box = document.getElementById("modules");
  const open = DATA.scopes.filter(s => clusterEls[s]), shut = view.folded.filter(s => Object.values(view.boxes).some(b => b.scope === s));
  if (!open.length && !shut.length) { box.innerHTML = ""; return; }
  box.innerHTML = `<h3>modules</h3>` +
    shut.map(s => `<button class="folded" data-scope="${esc(s)}" data-action="unfold" title="open it">${esc(DATA.labels[s])}</button>`).join("") +
    open.map(s => `<button data-scope="${esc(s)}" data-action="fold" title="fold it">${esc(DATA.labels[s])}</button>`).join("") +
    ` <button id="unfold-all">unfold all</button>`;
  for (const b of box.querySelectorAll("button[data-scope]")) {
    b.addEventListener("click", () => b.dataset.action === "fold" ? fold(b.dataset.scope) : unfold(b.dataset.scope, null));
  }
  document.getElementById("unfold-all").addEventListener("click", () => switchTo("", null, null));
}
(function depthSelector() {
  const sel = document.getElementById("depth");
  const levels = Object.entries(V).filter(([, v]) => v.level).sort((a, b) => (a[1].depth ?? 99) - (b[1].depth ?? 99));
  sel.innerHTML = levels.map(([key, v]) => `<option value="${esc(key)}">${v.depth === null ? "every op" : "depth " + v.depth}</option>`).join("");
  sel.disabled = levels.length < 2;
  sel.addEventListener("change", () => switchTo(sel.value, null, null));
})();

// ---------------------------------------------------------------------------- zoom
function setZoom(z) {
  zoom = Math.max(0.1, Math.min(4, z));
  svg.setAttribute("width", natural.w * zoom);
  svg.setAttribute("height", natural.h * zoom);
}
function fitWidth() { setZoom(Math.min(1, (document.getElementById("graph").clientWidth - 8) / natural.w)); }
document.getElementById("zoom-in").addEventListener("click", () => setZoom(zoom * 1.25));
document.getElementById("zoom-out").addEventListener("click", () => setZoom(zoom / 1.25));
document.getElementById("zoom-fit").addEventListener("click", fitWidth);

// ---------------------------------------------------------------------------- wiring
function play() {
  if (timer) { clearInterval(timer); timer = null; }
  else {
    if (pos === groups.length - 1) go(0);
    timer = setInterval(() => { if (pos >= groups.length - 1) play(); else go(pos + 1); }, 700);
  }
  document.getElementById("play").textContent = timer ? "pause" : "play";
}
for (const b of document.querySelectorAll("button")) b.addEventListener("mousedown", ev => ev.preventDefault());  // keys stay ours
document.getElementById("first").addEventListener("click", () => go(0));
document.getElementById("prev").addEventListener("click", () => go(pos - 1));
document.getElementById("next").addEventListener("click", () => go(pos + 1));
document.getElementById("last").addEventListener("click", () => go(groups.length - 1));
document.getElementById("play").addEventListener("click", play);
slider.addEventListener("input", () => go(Number(slider.value)));
document.addEventListener("keydown", ev => {
  if (ev.target && ev.target.tagName === "SELECT") return;
  const keys = {ArrowRight: () => go(pos + 1), ArrowLeft: () => go(pos - 1), Home: () => go(0), End: () => go(groups.length - 1), " ": play};
  if (keys[ev.key] && !ev.altKey && !ev.ctrlKey && !ev.metaKey) { ev.preventDefault(); keys[ev.key](); }
});
if (DATA.freed) { const p = document.getElementById("freed"); p.textContent = DATA.freed; p.hidden = false; }
showView(DATA.view, 0);
