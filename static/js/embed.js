/* Booking portal loader: <script src="https://PORTAL/embed.js" data-clinic="SLUG" async></script>. Docs: README "Embedding". */
(function (d, w) {
  "use strict";
  var s = d.currentScript, o = s && s.dataset, origin, q, f, box, seen = {}, page, tab, ok, wait, here = location.origin;
  if (!o || !o.clinic) return;
  origin = new URL(s.src).origin;
  q = new URLSearchParams();
  // Deep links: ids of the clinic's location, service and practitioner.
  [["location", "location"], ["service", "type"], ["practitioner", "practitioner"]].forEach(function (k) {
    if (o[k[0]]) q.set(k[1], o[k[0]]);
  });
  if (o.background === "transparent") q.set("bg", "transparent");
  new URLSearchParams(location.search).forEach(function (v, k) {
    if (/^utm_(source|medium|campaign|term|content)$/.test(k)) q.set(k, v);
  });
  page = origin + "/" + encodeURIComponent(o.clinic) + "/book?";
  tab = page + q; // the booking on its own, in a new tab
  q.set("embed", "1");
  q.set("host", here);
  box = d.createElement("div");
  box.className = "booking-portal";
  f = d.createElement("iframe");
  f.title = o.title || "Book an appointment";
  f.loading = "lazy";
  f.style.cssText = "display:block;width:100%;border:0;height:" + (parseInt(o.height, 10) || 700) + "px";
  f.src = page + q;
  w.addEventListener("message", function (e) {
    var m = e.data, name, detail = {}, k;
    // Only this frame, only from the portal.
    if (e.origin !== origin || e.source !== f.contentWindow || !m || m.type !== "booking-portal") return;
    ok = 1;
    name = m.event;
    if (name === "resize") {
      if (m.height > 0) f.style.height = Math.ceil(m.height) + "px";
      return;
    }
    if (name === "booking-confirmed") {
      if (seen[m.reference]) return;
      seen[m.reference] = 1;
    }
    if (name === "step-viewed" && box.getBoundingClientRect().top < 0) box.scrollIntoView();
    for (k in m) if (k !== "type") detail[k] = m[k];
    box.dispatchEvent(new CustomEvent("booking-portal:" + name, { bubbles: true, detail: detail }));
    if (w.dataLayer && w.dataLayer.push) w.dataLayer.push(Object.assign({}, detail, { event: "booking_portal_" + name.replace(/-/g, "_") }));
  });
  f.addEventListener("load", function () {
    f.contentWindow.postMessage({ type: "booking-portal", event: "ping" }, origin);
    // A frame refused (this site is not in the clinic's frame origins) never says hello.
    wait = wait || setTimeout(function () {
      if (ok) return;
      var p = d.createElement("p"), a = d.createElement("a");
      p.textContent = "The booking page couldn't be shown here. ";
      a.href = tab;
      a.target = "_blank";
      a.rel = "noopener";
      a.textContent = "Book in a new tab";
      p.appendChild(a);
      box.replaceChild(p, f);
      console.error("Booking portal: add " + here + " to the frame origins of clinic " + o.clinic + " (portal clinic update " + o.clinic + " --frame-origins ...)");
    }, 4000);
  });
  box.appendChild(f);
  s.parentNode.insertBefore(box, s.nextSibling);
})(document, window);
