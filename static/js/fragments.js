/* Loads the parts of a page that cost more than its first paint. The server renders a placeholder
   <section data-fragment-src="URL" id="..."> holding a link to the same part on a page of its own (the
   fallback without JavaScript); this script fetches URL with the header "X-Fragment: 1", to which the
   server answers the bare part, and puts the answer in the placeholder's place. A 400 answer is shown
   too: it carries the part's own field message. Any other failure keeps the link and says so.
   After inserting a part it dispatches "fragment:loaded" (charts.js draws the charts inside), and brings
   the element the address's #fragment names back into view, since content above it has grown. */
(function () {
  "use strict";

  function fail(slot) {
    slot.removeAttribute("aria-busy");
    slot.setAttribute("data-fragment-error", "");
    var note = slot.querySelector("[data-fragment-status]");
    if (note) {
      note.textContent = "This part could not be loaded.";
    }
  }

  function revealHash() {
    if (!window.location.hash) {
      return;
    }
    var target = document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
    if (target && !target.hasAttribute("data-fragment-src")) {
      target.scrollIntoView();
    }
  }

  function load(slot) {
    slot.setAttribute("aria-busy", "true");
    var note = slot.querySelector("[data-fragment-status]");
    if (note) {
      note.textContent = "Loading…";
    }
    fetch(slot.getAttribute("data-fragment-src"), {
      credentials: "same-origin",
      headers: { Accept: "text/html", "X-Fragment": "1" }
    })
      .then(function (response) {
        // A redirect (to the sign-in page, say) is not the part.
        if (response.redirected || (!response.ok && response.status !== 400)) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var answer = new DOMParser().parseFromString(html, "text/html");
        var nodes = Array.prototype.slice.call(answer.body.childNodes);
        if (!nodes.some(function (n) { return n.nodeType === 1; })) {
          throw new Error("empty answer");
        }
        var parent = slot.parentNode;
        var inserted = [];
        nodes.forEach(function (node) {
          var adopted = document.importNode(node, true);
          parent.insertBefore(adopted, slot);
          if (adopted.nodeType === 1) {
            inserted.push(adopted);
          }
        });
        parent.removeChild(slot);
        inserted.forEach(function (el) {
          el.dispatchEvent(new CustomEvent("fragment:loaded", { bubbles: true }));
        });
        revealHash();
      })
      .catch(function () {
        fail(slot);
      });
  }

  function loadAll() {
    var slots = document.querySelectorAll("[data-fragment-src]");
    for (var i = 0; i < slots.length; i++) {
      load(slots[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", loadAll);
  } else {
    loadAll();
  }
})();
