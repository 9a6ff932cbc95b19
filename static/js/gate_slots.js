/* Fills the gate summaries of the dashboard's promotion queue after the first paint. The rows carry
   <td data-gates-slot="ID"> inside <tbody data-gates-src="URL">; the URL (PromotionGatesView) answers
   <div data-gates-for="ID"> per promotion still pending and visible. Without JavaScript, or if the request
   fails, each slot keeps its link to the request's own gates. */
(function () {
  "use strict";

  function settle(slot, text) {
    var link = slot.querySelector("a");
    if (link) {
      link.textContent = text;
    }
  }

  function fill(container) {
    var slots = container.querySelectorAll("[data-gates-slot]");
    container.setAttribute("aria-busy", "true");
    fetch(container.getAttribute("data-gates-src"), {
      credentials: "same-origin",
      headers: { Accept: "text/html" }
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var answer = new DOMParser().parseFromString(html, "text/html");
        for (var i = 0; i < slots.length; i++) {
          var slot = slots[i];
          var found = answer.querySelector('[data-gates-for="' + slot.getAttribute("data-gates-slot") + '"]');
          if (found) {
            slot.replaceChildren.apply(slot, Array.prototype.slice.call(found.childNodes));
          } else {
            settle(slot, "Decided meanwhile: open the request");
          }
        }
      })
      .catch(function () {
        for (var i = 0; i < slots.length; i++) {
          settle(slots[i], "Gates could not be loaded: open the request");
        }
      })
      .then(function () {
        container.removeAttribute("aria-busy");
      });
  }

  function fillAll() {
    var containers = document.querySelectorAll("[data-gates-src]");
    for (var i = 0; i < containers.length; i++) {
      fill(containers[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", fillAll);
  } else {
    fillAll();
  }
})();
