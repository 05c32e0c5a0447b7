// Keeps server-rendered pages live: one SignalR connection (JSON protocol over a WebSocket) to /hubs/metrics per tab,
// and small renderers for the elements a page marks with data-live, data-sla, data-chart and data-table.
(() => {
  "use strict";
  const RS = "\u001e";

  const fmt = {
    ms: v => v >= 10000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`,
    rate: (v, unit) => `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${unit}`,
    pct: v => `${(v * 100).toFixed(1)} %`,
    count: (v, unit) => `${Math.round(v).toLocaleString("en-US")} ${unit}`,
    tok: v => `${Math.round(v)} tok`,
    time: v => v ? `${new Date(v).toISOString().substring(11, 19)} UTC` : "–",
    ago: (v, now) => v ? `${Math.max(0, (new Date(now) - new Date(v)) / 1000).toFixed(1)} s ago` : "never",
    text: v => v ?? "–",
  };

  const get = (obj, path) => path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);

  function format(value, kind, unit, snapshot) {
    if (value === undefined || value === null) return "–";
    switch (kind) {
      case "ms": return fmt.ms(value);
      case "rate": return fmt.rate(value, unit);
      case "pct": return fmt.pct(value);
      case "count": return fmt.count(value, unit);
      case "tok": return fmt.tok(value);
      case "time": return fmt.time(value);
      case "ago": return fmt.ago(value, snapshot.timestamp);
      default: return String(value);
    }
  }

  const slaClass = (value, target) => !(value > 0) || !(target > 0) ? "idle" : value > target ? "breach" : value > 0.8 * target ? "warn" : "ok";

  const esc = s => String(s ?? "").replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

  // ---- charts: fixed-size SVG, so streaming data never moves the layout ----
  const history = [];
  const seed = document.getElementById("history");
  if (seed) for (const p of JSON.parse(seed.textContent || "[]")) history.push(p);
  const maxPoints = Number(seed?.dataset.points || 300);

  function drawChart(el, snapshot) {
    const series = JSON.parse(el.dataset.series);
    const target = el.dataset.target ? get(snapshot, el.dataset.target) : undefined;
    const scale = Number(el.dataset.scale || 1);
    const w = 560, h = 170, left = 44, bottom = 18;
    let max = target > 0 ? target * 1.2 : 0;
    for (const p of history) for (const s of series) max = Math.max(max, (p[s.key] || 0) * scale);
    max = max > 0 ? max : 1;
    const n = history.length;
    const x = i => left + (n <= 1 ? 0 : (i / (n - 1)) * (w - left - 4));
    const y = v => 4 + (h - bottom - 4) * (1 - v / max);
    let svg = `<svg viewBox="0 0 ${w} ${h}" width="100%" height="${h}" preserveAspectRatio="none" role="img">`;
    for (let g = 0; g <= 4; g++) {
      const v = (max * g) / 4, gy = y(v);
      svg += `<line x1="${left}" x2="${w}" y1="${gy}" y2="${gy}" stroke="#eef0f3"/><text x="${left - 4}" y="${gy + 4}" text-anchor="end" font-size="10" fill="#6b7280">${v >= 100 ? Math.round(v) : v.toFixed(1)}</text>`;
    }
    if (n > 0) {
      svg += `<text x="${left}" y="${h - 4}" font-size="10" fill="#6b7280">${fmt.time(history[0].time)}</text><text x="${w - 4}" y="${h - 4}" text-anchor="end" font-size="10" fill="#6b7280">${fmt.time(history[n - 1].time)}</text>`;
    }
    if (target > 0) svg += `<line x1="${left}" x2="${w}" y1="${y(target)}" y2="${y(target)}" stroke="#dc2626" stroke-dasharray="6 4" stroke-width="1.5"/>`;
    for (const s of series) {
      const pts = history.map((p, i) => `${x(i).toFixed(1)},${y((p[s.key] || 0) * scale).toFixed(1)}`).join(" ");
      svg += `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts}"/>`;
    }
    svg += "</svg>";
    const legend = series.map(s => `<span><i style="background:${s.color}"></i>${esc(s.label)}</span>`).join("") + (target > 0 ? `<span><i class="target"></i>SLA target</span>` : "");
    el.innerHTML = svg + `<div class="legend">${legend}</div>`;
  }

  // ---- tables rendered from the snapshot ----
  const token = () => document.querySelector("#antiforgery input[name=__RequestVerificationToken]")?.value ?? "";
  const badge = state => ({ Idle: "ok", Busy: "ok", Queueing: "warn" }[state] || "breach");
  const usageClass = u => u > 0.95 ? "breach" : u > 0.8 ? "warn" : "ok";
  const instance = id => { const m = /^(.+)-(\d+)-[0-9a-f]{8}$/.exec(id); return m ? { resource: m[1], replica: Number(m[2]) } : null; };

  const tables = {
    workers: s => s.workers.length === 0 ? `<tr><td colspan="11" class="muted">No worker is registered or reporting load.</td></tr>` : s.workers.map(w => {
      const r = instance(w.workerId);
      const tiers = (w.tiers || []).length === 0 ? `<span class="muted">G1 only</span>` : w.tiers.map(t => `<div title="${fmt.count(t.usedBlocks, "blocks")} of ${fmt.count(t.totalBlocks, "blocks")}">${esc(t.tier)} ${fmt.pct(t.totalBlocks ? t.usedBlocks / t.totalBlocks : 0)}</div>`).join("");
      const actions = r ? ["restart", "drain"].map(a => `<form method="post" class="inline"><input type="hidden" name="_handler" value="worker-action"/><input type="hidden" name="__RequestVerificationToken" value="${esc(token())}"/><input type="hidden" name="Action.WorkerId" value="${esc(w.workerId)}"/><input type="hidden" name="Action.Kind" value="${a}"/><button class="act${a === "drain" ? " danger" : ""}" data-testid="${a}">${a === "drain" ? "Drain" : "Restart"}</button></form>`).join("") : `<span class="muted small">not started by the AppHost</span>`;
      return `<tr data-worker="${esc(w.workerId)}"><td class="mono" title="${esc(w.workerId)}">${esc(w.workerId)}<div class="muted small">${esc(w.model ?? "–")}</div></td><td>${esc(w.role ?? "–")}</td><td>${esc(w.engine ?? "–")}</td><td><span class="badge ${badge(w.state)}">${esc(w.state)}</span></td><td><div class="bar"><div class="fill ${usageClass(w.kvUsage)}" style="width:${Math.min(100, w.kvUsage * 100).toFixed(1)}%"></div></div><span class="small">${fmt.pct(w.kvUsage)} of ${fmt.count(w.totalBlocks, "blk")}</span></td><td class="small tiers">${tiers}</td><td class="num">${fmt.count(w.runningSeqs, "seq")}</td><td class="num">${fmt.count(w.waitingSeqs, "seq")}</td><td class="num">${fmt.pct(w.routingKvHitRate)}</td><td class="small">${fmt.ago(w.lastHeartbeat, s.timestamp)}</td><td class="wrap">${actions}</td></tr>`;
    }).join(""),
    routers: s => s.routers.length === 0 ? `<tr><td colspan="5" class="muted">No router is publishing metrics.</td></tr>` : s.routers.map(r => `<tr><td class="mono" title="${esc(r.routerId)}">${esc(r.routerId)}</td><td>${esc(r.model)}</td><td class="num">${fmt.rate(r.requestsPerSecond, "req/s")}</td><td class="num">${fmt.pct(r.kvHitRate)}</td><td class="num">${fmt.count(r.indexBlocks, "blk")}</td></tr>`).join(""),
    workerHits: s => s.workers.length === 0 ? `<tr><td colspan="3" class="muted">No workers.</td></tr>` : s.workers.map(w => `<tr><td class="mono" title="${esc(w.workerId)}">${esc(w.workerId)}</td><td><div class="bar"><div class="fill ok" style="width:${Math.min(100, w.routingKvHitRate * 100).toFixed(1)}%"></div></div></td><td class="num">${fmt.pct(w.routingKvHitRate)}</td></tr>`).join(""),
    decisions: s => s.recentDecisions.length === 0 ? `<tr><td colspan="9" class="muted">No routing decisions in the last interval.</td></tr>` : s.recentDecisions.map(d => `<tr><td>${fmt.time(d.timestamp)}</td><td class="mono" title="${esc(d.requestId)}">${esc(d.requestId)}</td><td>${esc(d.policy)}</td><td class="mono" title="${esc(d.workerId)}">${esc(d.workerId)}</td><td class="mono">${esc(d.prefillWorkerId ?? "–")}</td><td class="num">${fmt.count(d.promptBlocks, "blk")}</td><td class="num">${fmt.count(d.overlapBlocks, "blk")}</td><td class="num">${fmt.pct(d.promptBlocks ? d.overlapBlocks / d.promptBlocks : 0)}</td><td class="num">${d.cost.toFixed(1)} blk</td></tr>`).join(""),
    pools: s => !s.latestDecision ? "" : s.latestDecision.pools.map(p => `<tr><td>${esc(p.pool)}</td><td class="num">${fmt.count(p.currentReplicas, "rep")}</td><td class="num">${fmt.count(p.computedReplicas, "rep")}</td><td class="num"><b>${fmt.count(p.targetReplicas, "rep")}</b></td><td class="num">×${p.correctionFactor.toFixed(2)}</td><td class="wrap">${esc(p.reason)}</td><td class="wrap">${esc(p.connectorOutcome)}</td></tr>`).join(""),
  };

  function timelineRow(d) {
    return `<tr data-decision="${esc(d.id)}"><td>${fmt.time(d.timestamp)}</td><td>${fmt.ms(d.sla.ttftMs)} / ${fmt.ms(d.sla.itlMs)}</td><td class="num">${fmt.rate(d.observed.requestsPerSecond, "req/s")}</td><td class="num">${fmt.rate(d.predicted.requestsPerSecond, "req/s")}</td><td class="small">${d.pools.map(p => `${esc(p.pool)} ${p.currentReplicas}→${p.targetReplicas}`).join(" · ")}</td><td class="wrap">${esc(d.reason)}</td></tr>`;
  }

  function render(snapshot) {
    const last = history[history.length - 1];
    if (!last || last.time !== snapshot.timestamp) {
      history.push({ time: snapshot.timestamp, ...snapshot.totals });
      while (history.length > maxPoints) history.shift();
    }
    for (const el of document.querySelectorAll("[data-live]")) {
      el.textContent = format(get(snapshot, el.dataset.live), el.dataset.fmt, el.dataset.unit, snapshot);
    }
    for (const el of document.querySelectorAll("[data-sla]")) {
      const [value, target] = el.dataset.sla.split("|");
      el.classList.remove("ok", "warn", "breach", "idle");
      el.classList.add(slaClass(get(snapshot, value), get(snapshot, target)));
    }
    for (const el of document.querySelectorAll("[data-show-if]")) {
      el.hidden = !get(snapshot, el.dataset.showIf);
    }
    for (const el of document.querySelectorAll("[data-hide-if]")) {
      el.hidden = !!get(snapshot, el.dataset.hideIf);
    }
    for (const el of document.querySelectorAll("[data-table]")) {
      el.innerHTML = tables[el.dataset.table](snapshot);
    }
    for (const el of document.querySelectorAll("[data-chart]")) drawChart(el, snapshot);
    const timeline = document.querySelector("[data-timeline]");
    const d = snapshot.latestDecision;
    if (timeline && d && !timeline.querySelector(`[data-decision="${CSS.escape(d.id)}"]`)) {
      timeline.insertAdjacentHTML("afterbegin", timelineRow(d));
    }
    const status = document.getElementById("live-status");
    if (status) { status.textContent = "live"; status.className = "live ok"; }
  }

  // ---- SignalR JSON protocol over a WebSocket, reconnecting with back-off ----
  let delay = 500;
  async function connect() {
    const status = document.getElementById("live-status");
    try {
      const negotiate = await fetch("hubs/metrics/negotiate?negotiateVersion=1", { method: "POST", credentials: "same-origin" });
      if (negotiate.status === 401) { location.href = "login?returnUrl=" + encodeURIComponent(location.pathname); return; }
      const { connectionToken } = await negotiate.json();
      const url = new URL("hubs/metrics?id=" + encodeURIComponent(connectionToken), document.baseURI);
      url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
      const ws = new WebSocket(url);
      let pinger;
      ws.onopen = () => {
        ws.send(JSON.stringify({ protocol: "json", version: 1 }) + RS);
        pinger = setInterval(() => ws.readyState === 1 && ws.send(JSON.stringify({ type: 6 }) + RS), 15000);
        delay = 500;
      };
      ws.onmessage = e => {
        for (const frame of String(e.data).split(RS)) {
          if (!frame) continue;
          const msg = JSON.parse(frame);
          if (msg.type === 1 && msg.target === "snapshot") render(msg.arguments[0]);
        }
      };
      ws.onclose = () => {
        clearInterval(pinger);
        if (status) { status.textContent = "reconnecting…"; status.className = "live warn"; }
        setTimeout(connect, delay = Math.min(delay * 2, 10000));
      };
    } catch {
      if (status) { status.textContent = "offline"; status.className = "live breach"; }
      setTimeout(connect, delay = Math.min(delay * 2, 10000));
    }
  }

  if (document.querySelector("[data-page-live]")) connect();
})();
