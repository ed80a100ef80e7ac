// nslua's topology page: the picture, a list of the namespaces and the
// details of one. Data comes embedded (the #nslua-data script); a live
// page also follows the server's event stream. Every value from the data
// is set as text, never as markup.
"use strict";
(function () {
  var data = JSON.parse(document.getElementById("nslua-data").textContent);
  var pinned = null; // name of the namespace clicked, shown until another is
  var shown = null;

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function table(head, rows) {
    var t = el("table"), tr = el("tr");
    head.forEach(function (h) { tr.appendChild(el("th", h)); });
    t.appendChild(tr);
    rows.forEach(function (r) {
      var row = el("tr", null, r.cls || "");
      r.cells.forEach(function (c) { row.appendChild(el("td", c)); });
      t.appendChild(row);
    });
    return t;
  }

  function infoByName(name) {
    var infos = data.infos || [];
    for (var i = 0; i < infos.length; i++) if (infos[i].name === name) return infos[i];
    return null;
  }

  // pairs is an object's members as "key value, ...", for the optional
  // parts of a link that inspect may report (shape, params).
  function pairs(o) {
    if (!o || typeof o !== "object") return o ? String(o) : "";
    return Object.keys(o).sort().map(function (k) { return k + " " + o[k]; }).join(", ");
  }

  function linkRows(info) {
    return (info.links || []).map(function (l) {
      var peer = l.peer ? l.peer.name + " in " + l.peer.ns : (l.parent ? "on " + l.parent : "");
      var state = l.state + (l.oper && l.oper !== l.state ? " (" + l.oper + ")" : "");
      var kind = l.kind + (l.params ? " (" + pairs(l.params) + ")" : "");
      return { cls: l.state !== "up" ? "down" : "", cells: [l.name, kind, state, l.mtu,
        (l.addrs || []).join(" "), l.master || "", peer, pairs(l.shape)] };
    });
  }

  // optional adds the sections inspect reports in some versions only.
  function optional(d, info) {
    if (info.rules && info.rules.length) {
      d.appendChild(el("h3", "Policy rules"));
      d.appendChild(table(["priority", "from", "to", "table"], info.rules.map(function (r) {
        return { cells: [r.priority, r.from || "all", r.to || "", r.table] };
      })));
    }
    if (info.listen && info.listen.length) {
      d.appendChild(el("h3", "Listening sockets"));
      d.appendChild(table(["proto", "local", "iface", "pids"], info.listen.map(function (s) {
        return { cells: [s.proto, s.local, s.iface || "", (s.pids || []).join(" ")] };
      })));
    }
  }

  function details(info) {
    var d = document.getElementById("details");
    d.textContent = "";
    if (!info) { d.appendChild(el("p", "Point at or click a namespace for its details.", "hint")); return; }
    d.appendChild(el("h2", info.name));
    d.appendChild(el("p", (info.lab ? "lab " + info.lab + ", " : "") + "inode " + info.inode + ", " + info.path));
    d.appendChild(el("h3", "Links"));
    d.appendChild(table(["name", "kind", "state", "mtu", "addresses", "master", "peer", "shaping"], linkRows(info)));
    d.appendChild(el("h3", "Routes"));
    d.appendChild(table(["dst", "via", "dev", "proto", "src", "metric"], (info.routes || []).map(function (r) {
      return { cells: [r.dst + (r.type ? " (" + r.type + ")" : ""), r.via || "", r.dev || "", r.proto, r.src || "", r.metric || ""] };
    })));
    d.appendChild(el("h3", "Processes"));
    d.appendChild(table(["pid", "command"], (info.procs || []).map(function (p) { return { cells: [p.pid, p.cmd] }; })));
    optional(d, info);
    d.appendChild(el("h3", "/etc bindings"));
    d.appendChild(table(["/etc/netns entry", "bound over", ""], (info.etc || []).map(function (e) {
      return { cls: e.host_exists ? "" : "warn", cells: [e.path, e.bound_to, e.host_exists ? "" : "bound by nslua exec; ip netns exec skips it (not on the host)"] };
    })));
    d.appendChild(el("h3", "Sysctls"));
    var keys = Object.keys(info.sysctl || {}).sort();
    d.appendChild(table(["key", "value"], keys.map(function (k) { return { cells: [k, info.sysctl[k]] }; })));
  }

  function show(name) {
    shown = name;
    details(name === null ? null : infoByName(name));
    var nodes = document.querySelectorAll("#picture g.ns");
    for (var i = 0; i < nodes.length; i++) nodes[i].classList.toggle("sel", nodes[i].dataset.ns === name);
    var buttons = document.querySelectorAll("#list button");
    for (var j = 0; j < buttons.length; j++) buttons[j].classList.toggle("sel", buttons[j].dataset.ns === name);
  }

  function hook(node, name) {
    node.dataset.ns = name;
    node.addEventListener("mouseenter", function () { if (pinned === null) show(name); });
    node.addEventListener("click", function () { pinned = name; show(name); });
  }

  function render() {
    var infos = data.infos || [];
    var list = document.getElementById("list");
    list.textContent = "";
    if (infos.length === 0) list.appendChild(el("p", "no namespaces", "hint"));
    infos.forEach(function (info, i) {
      var b = el("button", info.name);
      b.type = "button";
      list.appendChild(b);
      hook(b, info.name);
      var node = document.getElementById("ns-" + i);
      if (node) hook(node, info.name);
    });
    if (shown !== null && !infoByName(shown)) { pinned = null; shown = null; }
    show(shown);
  }

  function follow() {
    var status = document.getElementById("status");
    var es = new EventSource("events");
    es.onmessage = function (ev) {
      var d = JSON.parse(ev.data);
      data.infos = d.infos;
      document.getElementById("picture").innerHTML = d.svg;
      status.textContent = d.status;
      document.body.dataset.updates = String(Number(document.body.dataset.updates) + 1);
      document.body.dataset.updated = String(Date.now());
      render();
    };
    es.onerror = function () { status.textContent = "lost the server; retrying..."; };
  }

  render();
  if (data.live) follow();
})();
