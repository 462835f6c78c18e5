(function () {
  "use strict";
  var root = document.getElementById("explorer");
  if (!root) {
    return;
  }
  var filters = root.querySelector(".filters");
  var search = filters.querySelector("input");
  var model = filters.querySelector("select");
  var count = filters.querySelector(".count");
  var none = root.querySelector(".no-match");
  var blocks = root.querySelectorAll(".probe-samples");
  var total = root.querySelectorAll("tr[data-model]").length;

  function apply() {
    var query = search.value.trim().toLowerCase();
    var chosen = model.value;
    var shown = 0;
    blocks.forEach(function (block) {
      var visible = 0;
      block.querySelectorAll("tr[data-model]").forEach(function (row) {
        var match = (chosen === "" || row.getAttribute("data-model") === chosen) &&
          (query === "" || row.textContent.toLowerCase().indexOf(query) !== -1);
        row.hidden = !match;
        visible += match ? 1 : 0;
      });
      block.hidden = visible === 0;
      shown += visible;
    });
    count.textContent = shown + " of " + total + " rows shown";
    none.hidden = shown !== 0;
  }

  search.addEventListener("input", apply);
  model.addEventListener("change", apply);
  filters.hidden = false;
  apply();
  root.setAttribute("data-ready", "true");
})();
