// The style sheet and the script of the HTML report, inlined into the page (it must open with no
// network). The script reads the JSON the page carries and draws the file tree lazily: only the
// rows of open directories exist, a directory's children are made when it is opened (a page at
// a time), and the filesystem at another layer is recomputed from each path's events in one
// pass. Data reaches the page only through textContent, never as markup.
//
// Written as plain ES2019 in a string (no template placeholders), so that the page needs no
// build step of its own.

export const REPORT_CSS = String.raw`
:root { --fg:#1b1f24; --muted:#59636e; --bg:#ffffff; --panel:#f6f8fa; --line:#d1d9e0; --accent:#0969da;
  --add:#1a7f37; --add-bg:#dafbe1; --mod:#9a6700; --mod-bg:#fff8c5; --del:#cf222e; --del-bg:#ffebe9; --waste:#d1242f; --store:#54aeff; }
@media (prefers-color-scheme: dark) {
  :root { --fg:#e6edf3; --muted:#9198a1; --bg:#0d1117; --panel:#151b23; --line:#3d444d; --accent:#4493f8;
    --add:#3fb950; --add-bg:#12261e; --mod:#d29922; --mod-bg:#272115; --del:#f85149; --del-bg:#301a1f; --waste:#f85149; --store:#1f6feb; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: var(--bg); }
code, .mono, .tree, table.data td.num { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; }
header { padding: 18px 28px 10px; border-bottom: 1px solid var(--line); background: var(--panel); }
header h1 { margin: 0 0 4px; font-size: 20px; font-weight: 600; word-break: break-all; }
header .sub { color: var(--muted); }
nav { display: flex; gap: 16px; flex-wrap: wrap; padding: 8px 28px; border-bottom: 1px solid var(--line); position: sticky; top: 0; background: var(--bg); z-index: 2; }
nav a { color: var(--accent); text-decoration: none; }
main { padding: 8px 28px 40px; max-width: 1400px; }
section { margin-top: 22px; scroll-margin-top: 44px; }
h2 { font-size: 16px; margin: 0 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 14px 0 6px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; word-break: break-all; }
table.data { border-collapse: collapse; width: 100%; }
table.data th, table.data td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); vertical-align: baseline; }
table.data th { color: var(--muted); font-weight: 600; background: var(--panel); position: sticky; top: 36px; }
table.data td.num, table.data th.num { text-align: right; white-space: nowrap; }
table.data td.cmd { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; }
.muted { color: var(--muted); }
.pill { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.pass { color: var(--add); background: var(--add-bg); }
.fail { color: var(--del); background: var(--del-bg); }
.skip { color: var(--muted); background: var(--panel); }
.verdict { font-size: 15px; margin: 6px 0 10px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin-bottom: 10px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; min-width: 150px; background: var(--panel); }
.card .v { font-size: 18px; font-weight: 600; }
.card .k { color: var(--muted); font-size: 12px; }
svg.chart { width: 100%; max-width: 1100px; }
svg.chart text { fill: var(--fg); font: 12px system-ui, sans-serif; }
svg.chart text.muted { fill: var(--muted); }
svg.chart .stored { fill: var(--store); }
svg.chart .wasted { fill: var(--waste); }
svg.chart g.bar { cursor: pointer; }
svg.chart g.bar:hover rect.bg, svg.chart g.bar.sel rect.bg { fill: var(--panel); }
svg.chart rect.bg { fill: transparent; }
.legend span { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 12px; vertical-align: -1px; }
.toolbar { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; margin: 6px 0 8px; }
.toolbar input[type=search] { width: 300px; padding: 4px 8px; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); }
.toolbar select { padding: 3px 6px; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); max-width: 520px; }
.tree { border: 1px solid var(--line); border-radius: 6px; padding: 4px 0; max-height: 75vh; overflow: auto; }
.row { display: flex; align-items: baseline; white-space: nowrap; padding: 0 8px; line-height: 20px; }
.row:hover { background: var(--panel); }
.row .mark { width: 14px; font-weight: 700; flex: none; }
.row .mode { width: 92px; color: var(--muted); flex: none; }
.row .own { width: 86px; color: var(--muted); text-align: right; padding-right: 10px; flex: none; }
.row .size { width: 74px; text-align: right; padding-right: 12px; flex: none; }
.row .tog { width: 16px; flex: none; cursor: pointer; color: var(--muted); user-select: none; text-align: center; }
.row .name { overflow: hidden; text-overflow: ellipsis; }
.row .link, .row .why { color: var(--muted); margin-left: 8px; }
.row.added .name, .row.added .mark { color: var(--add); }
.row.modified .name, .row.modified .mark { color: var(--mod); }
.row.removed .name, .row.removed .mark { color: var(--del); }
.row.removed .name { text-decoration: line-through; }
.row.dir > .name { font-weight: 600; }
.row.more { color: var(--accent); cursor: pointer; }
.row.flash { background: var(--mod-bg); }
.results { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 8px; max-height: 240px; overflow: auto; }
.results div { padding: 1px 10px; cursor: pointer; white-space: nowrap; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.results div:hover { background: var(--panel); }
.results .head { cursor: default; color: var(--muted); font-family: inherit; }
button.more { margin: 6px 0; padding: 3px 10px; border: 1px solid var(--line); border-radius: 6px; background: var(--panel); color: var(--fg); cursor: pointer; }
.kindA { color: var(--add); } .kindR { color: var(--del); } .kindM { color: var(--mod); }
footer { color: var(--muted); padding: 10px 28px 30px; font-size: 12px; }
`;

export const REPORT_JS = String.raw`
(function () {
  'use strict';
  var t0 = performance.now();
  var DATA = JSON.parse(document.getElementById('layerlens-data').textContent);
  var T = DATA.timeline;
  var N = T.names.length;
  var TYPES = ['file', 'dir', 'symlink', 'hardlink', 'char', 'block', 'fifo'];
  var PAGE = 500;

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
  function human(n) {
    var u = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'], i = 0;
    while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
    return (i === 0 ? String(n) : (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)).replace(/\.?0+$/, '')) + u[i];
  }
  function modeString(type, mode) {
    var t = { dir: 'd', symlink: 'l', char: 'c', block: 'b', fifo: 'p' }[type] || '-';
    function rwx(b, sp, ch) { return (b & 4 ? 'r' : '-') + (b & 2 ? 'w' : '-') + (sp ? (b & 1 ? ch : ch.toUpperCase()) : (b & 1 ? 'x' : '-')); }
    return t + rwx((mode >> 6) & 7, (mode & 2048) !== 0, 's') + rwx((mode >> 3) & 7, (mode & 1024) !== 0, 's') + rwx(mode & 7, (mode & 512) !== 0, 't');
  }
  function cmpName(a, b) { return a < b ? -1 : a > b ? 1 : 0; }

  // Children of each node, in id order.
  var kids = new Array(N);
  for (var i = 1; i < N; i++) { var p = T.parents[i]; (kids[p] || (kids[p] = [])).push(i); }

  // The filesystem at one layer: each node's current event, directory sizes, what changed.
  var L = null;
  function compute(layer) {
    var ev = new Int32Array(N), size = new Float64Array(N), changed = new Uint8Array(N), vis = new Uint8Array(N);
    vis[0] = 1;
    for (var i = 0; i < N; i++) {
      var e = T.events[i], k = -1;
      for (var j = 0; j < e.length && e[j][0] <= layer; j++) k = j;
      ev[i] = k;
      if (i === 0 || k < 0) continue;
      var x = e[k], kind = x[1];
      // 1: present; 2: removed by this layer (shown where it was); 0: not there.
      vis[i] = kind <= 1 ? 1 : (kind === 2 && x[0] === layer ? 2 : 0);
    }
    for (var n = 1; n < N; n++) {
      if (!vis[n]) continue;
      var y = T.events[n][ev[n]];
      if (y[0] === layer && y[1] <= 2) {
        changed[n] = 1;
        for (var q = T.parents[n]; q > 0 && !changed[q]; q = T.parents[q]) changed[q] = 2;
        if (changed[0] === 0) changed[0] = 2;
      }
      if (vis[n] === 1 && (y[2] === 0 || y[2] === 3) && y[3] > 0) {
        for (var r = T.parents[n]; r >= 0; r = T.parents[r]) size[r] += y[3];
      }
    }
    for (var m = 1; m < N; m++) {
      if (vis[m] === 2) size[m] = T.events[m][ev[m]][3];
      else if (vis[m] === 1) { var z = T.events[m][ev[m]]; if (z[2] !== 1) size[m] = z[3]; }
    }
    return { layer: layer, ev: ev, size: size, changed: changed, vis: vis };
  }

  var state = { layer: T.layers - 1, sort: 'name', only: false, open: new Set([0]), shown: new Map() };

  function event(n) { return n === 0 ? null : T.events[n][L.ev[n]]; }
  function isDir(n) { if (n === 0) return true; var e = event(n); return !!e && e[2] === 1; }
  function visibleKids(n) {
    var ks = kids[n] || [], out = [];
    for (var i = 0; i < ks.length; i++) {
      var c = ks[i];
      if (!L.vis[c]) continue;
      if (state.only && !L.changed[c]) continue;
      out.push(c);
    }
    if (state.sort === 'size') out.sort(function (a, b) { return L.size[b] - L.size[a] || cmpName(T.names[a], T.names[b]); });
    else out.sort(function (a, b) { return cmpName(T.names[a], T.names[b]); });
    return out;
  }
  function pathOf(n) {
    var parts = [];
    for (var x = n; x > 0; x = T.parents[x]) parts.push(T.names[x]);
    return '/' + parts.reverse().join('/');
  }

  function row(n, depth) {
    var e = event(n);
    var r = el('div', 'row');
    r.dataset.id = String(n);
    r.dataset.depth = String(depth);
    r.setAttribute('role', 'treeitem');
    var type = n === 0 ? 'dir' : TYPES[e[2]];
    var cls = '';
    if (e && e[0] === L.layer) cls = e[1] === 0 ? 'added' : e[1] === 1 ? 'modified' : e[1] === 2 ? 'removed' : '';
    if (cls) r.classList.add(cls);
    if (type === 'dir') r.classList.add('dir');
    r.appendChild(el('span', 'mark', cls === 'added' ? '+' : cls === 'modified' ? '~' : cls === 'removed' ? '-' : ''));
    r.appendChild(el('span', 'mode', e && e[1] <= 1 ? modeString(type === 'hardlink' ? 'file' : type, e[4]) : ''));
    r.appendChild(el('span', 'own', e && e[1] <= 1 ? e[5] + ':' + e[6] : ''));
    r.appendChild(el('span', 'size', type === 'dir' || type === 'file' || type === 'hardlink' || cls === 'removed' ? human(L.size[n]) : ''));
    var pad = el('span', 'pad');
    pad.style.width = (depth * 16) + 'px';
    pad.style.flex = 'none';
    r.appendChild(pad);
    var tog = el('span', 'tog', type === 'dir' && L.vis[n] === 1 && (kids[n] || []).length ? (state.open.has(n) ? '▾' : '▸') : '');
    r.appendChild(tog);
    r.appendChild(el('span', 'name', n === 0 ? '/' : T.names[n]));
    if (e && e[8]) r.appendChild(el('span', 'link', (type === 'hardlink' ? 'link to ' : '→ ') + e[8]));
    if (e && e[0] === L.layer && e[7] >= 0) r.appendChild(el('span', 'why', T.descriptions[e[7]]));
    return r;
  }

  function renderChildren(box, n, depth) {
    var list = visibleKids(n);
    var limit = state.shown.get(n) || PAGE;
    var frag = document.createDocumentFragment();
    for (var i = 0; i < list.length && i < limit; i++) frag.appendChild(block(list[i], depth));
    if (list.length > limit) {
      var more = el('div', 'row more', 'show ' + Math.min(PAGE, list.length - limit) + ' more of ' + (list.length - limit) + ' remaining');
      more.style.paddingLeft = (depth * 16 + 300) + 'px';
      more.dataset.more = String(n);
      more.dataset.depth = String(depth);
      frag.appendChild(more);
    }
    box.appendChild(frag);
  }

  function block(n, depth) {
    var wrap = el('div', 'node');
    wrap.appendChild(row(n, depth));
    if (state.open.has(n) && isDir(n) && L.vis[n] === 1) {
      var box = el('div', 'kids');
      box.setAttribute('role', 'group');
      renderChildren(box, n, depth + 1);
      wrap.appendChild(box);
    }
    return wrap;
  }

  function renderTree() {
    var tree = $('tree');
    tree.textContent = '';
    tree.appendChild(block(0, 0));
  }

  function toggle(rowEl) {
    var n = Number(rowEl.dataset.id);
    if (!isDir(n) || L.vis[n] !== 1) return;
    var wrap = rowEl.parentNode;
    var depth = Number(rowEl.dataset.depth);
    if (state.open.has(n)) {
      state.open.delete(n);
      var k = wrap.querySelector(':scope > .kids');
      if (k) wrap.removeChild(k);
    } else {
      state.open.add(n);
      var box = el('div', 'kids');
      box.setAttribute('role', 'group');
      renderChildren(box, n, depth + 1);
      wrap.appendChild(box);
    }
    rowEl.querySelector('.tog').textContent = state.open.has(n) ? '▾' : '▸';
  }

  function setLayer(layer) {
    state.layer = layer;
    L = compute(layer);
    $('layer').value = String(layer);
    var bars = document.querySelectorAll('svg.chart g.bar');
    for (var i = 0; i < bars.length; i++) bars[i].classList.toggle('sel', Number(bars[i].getAttribute('data-layer')) === layer);
    summary();
    renderTree();
    if ($('search').value) search();
  }

  function summary() {
    var a = 0, m = 0, r = 0;
    for (var n = 1; n < N; n++) {
      if (L.changed[n] !== 1) continue;
      var k = T.events[n][L.ev[n]][1];
      if (k === 0) a++; else if (k === 1) m++; else if (k === 2) r++;
    }
    var s = $('layer-summary');
    s.textContent = '';
    s.appendChild(el('span', 'kindA', a + ' added'));
    s.appendChild(document.createTextNode(', '));
    s.appendChild(el('span', 'kindM', m + ' modified'));
    s.appendChild(document.createTextNode(', '));
    s.appendChild(el('span', 'kindR', r + ' removed'));
    s.appendChild(document.createTextNode(' by layer ' + L.layer + '; ' + human(L.size[0]) + ' of files in the image at this layer'));
  }

  // Search: names (or, with a '/', whole paths) in the filesystem at the chosen layer.
  var paths = null;
  function search() {
    var q = $('search').value.trim().toLowerCase();
    var box = $('results');
    box.textContent = '';
    if (!q) { box.hidden = true; return; }
    var full = q.indexOf('/') >= 0;
    if (full && !paths) { paths = new Array(N); for (var i = 1; i < N; i++) paths[i] = pathOf(i).toLowerCase(); }
    var found = [], total = 0;
    for (var n = 1; n < N; n++) {
      if (!L.vis[n]) continue;
      var hay = full ? paths[n] : T.names[n].toLowerCase();
      if (hay.indexOf(q) < 0) continue;
      total++;
      if (found.length < 200) found.push(n);
    }
    box.hidden = false;
    box.appendChild(el('div', 'head', total === 0 ? 'no path matches' : total + ' match' + (total === 1 ? '' : 'es') + (total > found.length ? ' (the first ' + found.length + ' shown)' : '') + ' at layer ' + L.layer));
    for (var f = 0; f < found.length; f++) {
      var fe = event(found[f]);
      var d = el('div', '', pathOf(found[f]) + (fe && (fe[2] === 0 || fe[2] === 3) ? '  ' + human(L.size[found[f]]) : fe && fe[2] === 1 ? '/' : ''));
      d.dataset.id = String(found[f]);
      box.appendChild(d);
    }
  }

  function reveal(n) {
    if (state.only && !L.changed[n]) { state.only = false; $('only').checked = false; }
    var chain = [];
    for (var p = T.parents[n]; p >= 0; p = T.parents[p]) chain.push(p);
    for (var i = 0; i < chain.length; i++) {
      state.open.add(chain[i]);
      var sibs = visibleKids(chain[i]);
      var want = i === 0 ? n : chain[i - 1];
      var at = sibs.indexOf(want);
      if (at >= (state.shown.get(chain[i]) || PAGE)) state.shown.set(chain[i], at + 1);
    }
    renderTree();
    var r = $('tree').querySelector('.row[data-id="' + n + '"]');
    if (r) {
      r.scrollIntoView({ block: 'center' });
      r.classList.add('flash');
      setTimeout(function () { r.classList.remove('flash'); }, 1600);
    }
  }

  // Tables the page carries as data, a page of rows at a time.
  function pagedTable(id, rows, columns) {
    var table = $(id);
    if (!table) return;
    var body = table.tBodies[0];
    var shown = 0;
    function more() {
      var frag = document.createDocumentFragment();
      for (var i = shown; i < rows.length && i < shown + 200; i++) {
        var tr = el('tr');
        for (var c = 0; c < columns.length; c++) {
          var v = columns[c](rows[i]);
          var td = el('td', v && v.cls ? v.cls : '', v && typeof v === 'object' ? v.text : v);
          tr.appendChild(td);
        }
        frag.appendChild(tr);
      }
      shown = Math.min(rows.length, shown + 200);
      body.appendChild(frag);
      btn.hidden = shown >= rows.length;
      btn.textContent = 'show more (' + (rows.length - shown) + ' left)';
    }
    var btn = el('button', 'more');
    btn.type = 'button';
    btn.addEventListener('click', more);
    table.parentNode.insertBefore(btn, table.nextSibling);
    more();
  }

  function diffTables() {
    var d = DATA.diff;
    if (!d) return;
    var f = d.files;
    var num = function (text) { return { text: text, cls: 'num' }; };
    pagedTable('diff-added', f.added, [function (r) { return r.path; }, function (r) { return r.type; }, function (r) { return num(human(r.size)); }]);
    pagedTable('diff-removed', f.removed, [function (r) { return r.path; }, function (r) { return r.type; }, function (r) { return num(human(r.size)); }]);
    pagedTable('diff-modified', f.modified, [function (r) { return r.path; }, function (r) { return r.changes.join(', '); }, function (r) { return num((r.sizeDelta > 0 ? '+' : r.sizeDelta < 0 ? '-' : '') + human(Math.abs(r.sizeDelta))); }]);
  }

  // Wiring.
  var sel = $('layer');
  for (var l = 0; l < T.layers; l++) {
    var o = el('option', '', l + ': ' + (DATA.layers[l] && DATA.layers[l].createdBy ? DATA.layers[l].createdBy.replace(/\s+/g, ' ').slice(0, 90) : 'layer ' + l));
    o.value = String(l);
    sel.appendChild(o);
  }
  sel.addEventListener('change', function () { setLayer(Number(sel.value)); });
  $('sort').addEventListener('change', function () { state.sort = $('sort').value; renderTree(); });
  $('only').addEventListener('change', function () { state.only = $('only').checked; renderTree(); });
  var timer = 0;
  $('search').addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(search, 120); });
  $('results').addEventListener('click', function (ev) { var d = ev.target.closest('[data-id]'); if (d) reveal(Number(d.dataset.id)); });
  $('tree').addEventListener('click', function (ev) {
    var more = ev.target.closest('.row.more');
    if (more) {
      var n = Number(more.dataset.more);
      state.shown.set(n, (state.shown.get(n) || PAGE) + PAGE);
      var box = more.parentNode;
      box.textContent = '';
      renderChildren(box, n, Number(more.dataset.depth));
      return;
    }
    var r = ev.target.closest('.row');
    if (r) toggle(r);
  });
  var chartBars = document.querySelectorAll('svg.chart g.bar');
  for (var b = 0; b < chartBars.length; b++) {
    chartBars[b].addEventListener('click', function () {
      setLayer(Number(this.getAttribute('data-layer')));
      $('files').scrollIntoView({ block: 'start' });
    });
  }

  if (T.layers > 0) setLayer(T.layers - 1);
  else { L = compute(-1); summary(); renderTree(); }
  diffTables();
  window.__layerlens = { ready: true, ms: performance.now() - t0, nodes: N };
  document.documentElement.setAttribute('data-ready', '1');
})();
`;
