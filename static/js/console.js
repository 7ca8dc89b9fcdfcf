// The staff console's progressive enhancement: every page works without
// this file. Copy buttons put a snippet on the clipboard.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    if (!navigator.clipboard) {
      return;
    }
    var said = document.querySelector(".copied");
    document.querySelectorAll("button[data-copy]").forEach(function (b) {
      var from = document.getElementById(b.getAttribute("data-copy"));
      if (!from) {
        return;
      }
      b.hidden = false;
      b.addEventListener("click", function () {
        navigator.clipboard.writeText(from.textContent).then(function () {
          if (said) {
            said.textContent = "Copied. Paste it into your website.";
          }
        }, function () {
          if (said) {
            said.textContent = "Your browser didn't allow copying: select the snippet and copy it.";
          }
        });
      });
    });
  });
})();
