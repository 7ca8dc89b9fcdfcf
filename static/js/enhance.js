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
  });
})();
