// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  // Take keyboard and screen-reader users straight to a form's problems.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector(".error-summary");
    if (summary) {
      summary.focus();
    }
    talkToHost();
  });

  // Inside a clinic's page (embed.js), tell it this page's height whenever
  // it changes, so the frame never scrolls, and what the patient did, with
  // ids only, never personal details. The server renders #portal-host only
  // when the host's origin is on the clinic's framing allowlist, and
  // postMessage delivers only to that origin.
  function talkToHost() {
    var data = document.getElementById("portal-host");
    if (!data || window.parent === window) {
      return;
    }
    var host = JSON.parse(data.textContent);
    var send = function (msg) {
      msg.type = "booking-portal";
      window.parent.postMessage(msg, host.parent);
    };
    var root = document.documentElement;
    var lastHeight = 0;
    var sendHeight = function (force) {
      var h = Math.ceil(root.getBoundingClientRect().height);
      if (h !== lastHeight || force) {
        lastHeight = h;
        send({ event: "resize", height: h });
      }
    };
    if (window.ResizeObserver) {
      new ResizeObserver(function () { sendHeight(false); }).observe(root);
    } else {
      window.addEventListener("resize", function () { sendHeight(false); });
    }
    sendHeight(true);
    host.events.forEach(send);
    // The host asks again once its listener is ready.
    window.addEventListener("message", function (e) {
      if (e.origin === host.parent && e.source === window.parent && e.data && e.data.type === "booking-portal" && e.data.event === "ping") {
        sendHeight(true);
      }
    });
    document.addEventListener("click", function (e) {
      var a = e.target.closest && e.target.closest("a[data-slot]");
      if (a) {
        var ctx = host.context || {};
        send({ event: "slot-selected", start: a.getAttribute("data-slot"), practitionerId: a.getAttribute("data-practitioner"), locationId: ctx.locationId, serviceId: ctx.serviceId });
      }
    });
  }
})();
