// The settings page's live brand preview: as the colour is typed, ask the
// portal what patients would see (the portal computes the text colour, the
// link colour and the contrast, so there is one copy of those rules) and
// show it. Without this script, "Preview without saving" does the same.
(function () {
  var input = document.getElementById("brand-colour");
  var preview = document.getElementById("brand-preview");
  var words = document.getElementById("brand-contrast");
  if (!input || !preview || !words || !window.fetch) return;
  function paint(p) {
    var vars = { "--brand": p.colour, "--brand-text": p.text, "--link": p.link };
    for (var k in vars) {
      if (vars[k]) preview.style.setProperty(k, vars[k]);
      else preview.style.removeProperty(k);
    }
    words.textContent = p.contrast;
  }
  paint({ colour: preview.dataset.colour, text: preview.dataset.text, link: preview.dataset.link, contrast: words.textContent });
  var timer;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      fetch(location.pathname.replace(/\/$/, "") + "/preview?brand-colour=" + encodeURIComponent(input.value.trim()), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (p) { if (p) paint(p); })
        .catch(function () {});
    }, 200);
  });
})();
