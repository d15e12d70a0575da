/* Search across past digests, in the browser: no server, works from file:// too.
 *
 * The index (search-index.js, `window.DIGEST_INDEX = [...]`) is a script, not JSON, because browsers block
 * fetch() of local files. The index page loads it with the page; other pages load it on first use.
 * Every word typed must appear in the paper's title, authors, arXiv ID or date. `index.html?q=words`
 * fills the box and searches at once. Results are built with textContent: nothing typed becomes markup.
 */
(function () {
  "use strict";
  var MAX_SHOWN = 50;
  var html = document.documentElement;
  var root = html.getAttribute("data-root") || "";
  var version = html.getAttribute("data-version") || "";
  var form = document.querySelector("form.search");
  var box = document.getElementById("search-results");
  if (!form || !box) return;
  var input = form.querySelector("input[name=q]");
  var onIndex = !root;
  var waiting = [];

  function fold(text) {
    return String(text).normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function withIndex(then) {
    if (window.DIGEST_INDEX) return then(window.DIGEST_INDEX);
    waiting.push(then);
    if (waiting.length > 1) return;
    var script = document.createElement("script");
    script.src = root + "search-index.js?v=" + encodeURIComponent(version);
    script.onload = function () {
      var run = waiting;
      waiting = [];
      run.forEach(function (fn) { fn(window.DIGEST_INDEX || []); });
    };
    script.onerror = function () {
      waiting = [];
      show([], "The search index could not be loaded.");
    };
    document.head.appendChild(script);
  }

  function haystack(entry) {
    if (entry._text === undefined) {
      entry._text = fold([entry.title, entry.authors, entry.id, entry.date].join(" "));
    }
    return entry._text;
  }

  function search(query, index) {
    var words = fold(query).split(/\s+/).filter(Boolean);
    if (!words.length) return null;
    return index.filter(function (entry) {
      var text = haystack(entry);
      return words.every(function (word) { return text.indexOf(word) !== -1; });
    });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function show(hits, message) {
    box.textContent = "";
    if (hits === null) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    var count = message || (hits.length === 0 ? "No paper matches." :
      hits.length + (hits.length === 1 ? " paper" : " papers") +
      (hits.length > MAX_SHOWN ? ", the newest " + MAX_SHOWN + " shown" : ""));
    box.appendChild(element("p", "count", count));
    if (!hits.length) return;
    var list = element("ol");
    hits.slice(0, MAX_SHOWN).forEach(function (entry) {
      var item = element("li");
      var link = element("a", "", entry.title);
      link.href = root + entry.url;
      item.appendChild(link);
      item.appendChild(element("span", "meta",
        entry.date + " · R " + entry.r + " · N " + entry.n + " · " + entry.id + " · " + entry.authors));
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  function update() {
    var query = input.value;
    if (!query.trim()) return show(null);
    withIndex(function (index) {
      if (input.value === query) show(search(query, index));
    });
  }

  input.addEventListener("input", update);
  input.addEventListener("focus", function () { withIndex(function () {}); });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      input.value = "";
      show(null);
    }
  });
  form.addEventListener("submit", function (event) {
    if (onIndex) {
      event.preventDefault();  // the results are already on this page
      update();
    }
  });

  var initial = new URLSearchParams(window.location.search).get("q");
  if (onIndex && initial) {
    input.value = initial;
    update();
  }
})();
