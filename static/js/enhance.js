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
    dayStrip();
  });

  // The time step holds every day of its week; without this only the
  // chosen one shows, and each day of the strip is a link that loads it.
  // Here a day shows without a page load, and the address changes as if
  // the link had been followed, so back, forward and bookmarks still work.
  // Arrow keys move between the days that have times.
  function dayStrip() {
    var strip = document.querySelector(".strip");
    if (!strip || !window.history.pushState) {
      return;
    }
    var links = Array.prototype.slice.call(strip.querySelectorAll("a[data-day]"));
    var first = strip.querySelector("a[aria-current]");
    var initial = first && first.getAttribute("data-day");
    var show = function (day) {
      var panel = document.getElementById("day-" + day);
      if (!panel) {
        return false;
      }
      document.querySelectorAll("section.day").forEach(function (s) { s.hidden = s !== panel; });
      links.forEach(function (a) {
        var on = a.getAttribute("data-day") === day;
        a.classList.toggle("chosen", on);
        if (on) { a.setAttribute("aria-current", "date"); } else { a.removeAttribute("aria-current"); }
      });
      // "Open in a new tab" (embedded) opens on the day shown too.
      var tab = document.querySelector(".new-tab a");
      if (tab) {
        var u = new URL(tab.href);
        u.searchParams.set("date", day);
        tab.href = u.toString();
      }
      return true;
    };
    var dayOf = function (href) {
      return new URL(href, window.location.href).searchParams.get("date");
    };
    strip.addEventListener("click", function (e) {
      var a = e.target.closest && e.target.closest("a[data-day]");
      if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey || e.button !== 0) {
        return;
      }
      var day = a.getAttribute("data-day");
      if (show(day)) {
        e.preventDefault();
        window.history.pushState({ day: day }, "", a.href);
      }
    });
    strip.addEventListener("keydown", function (e) {
      var i = links.indexOf(document.activeElement);
      var step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
      if (i < 0 || !step || !links[i + step]) {
        return;
      }
      e.preventDefault();
      links[i + step].focus();
    });
    window.addEventListener("popstate", function () {
      var day = dayOf(window.location.href) || initial;
      if (!day || !show(day)) {
        window.location.reload();
      }
    });
  }

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
