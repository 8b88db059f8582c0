// The mission search page, a file and not an inline script (the page's CSP has no nonce:
// README, "Security"). The page works without it, around a postal code; with it: "around
// me" (the browser's position, rounded to about a kilometre, fills lat/lng), the order
// applied as soon as chosen, the filters folded on phones, and URLs without the empty
// fields (shorter to share, one cache entry per search).
(function () {
  var form = document.getElementById("mission-search");
  if (!form) return;
  var lat = form.elements.lat, lng = form.elements.lng, postal = form.elements.postal_code;

  function submit() {
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (value !== "") params.append(name, value);
    });
    var query = params.toString();
    window.location.assign(window.location.pathname + (query ? "?" + query : ""));
  });

  // A postal code typed replaces the position (the search prefers a position when given).
  postal.addEventListener("input", function () { lat.value = ""; lng.value = ""; });

  var sort = form.elements.sort, sortButton = document.getElementById("sort-submit");
  if (sort) {
    if (sortButton) sortButton.classList.add("fr-hidden");
    sort.addEventListener("change", submit);
  }

  // On a phone the filters fold behind a button, unless one is set or wrong: the results
  // come first on the screen.
  var filters = document.getElementById("filters"), toggle = document.getElementById("filters-toggle");
  var title = document.getElementById("filters-title");
  var narrow = window.matchMedia("(max-width: 47.99em)");
  function show(open) {
    filters.classList.toggle("fr-hidden", !open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }
  function fold() {
    var folding = narrow.matches;
    toggle.classList.toggle("fr-hidden", !folding);
    title.classList.toggle("fr-hidden", folding);
    var set = toggle.dataset.active !== "0" || filters.querySelector(".fr-error-text, .fr-message--error");
    show(!folding || Boolean(set));
  }
  if (filters && toggle) {
    toggle.addEventListener("click", function () {
      show(toggle.getAttribute("aria-expanded") !== "true");
    });
    fold();
    if (narrow.addEventListener) narrow.addEventListener("change", fold);
  }

  var button = document.getElementById("around-me");
  var error = document.getElementById("around-me-error");
  if (!button || !navigator.geolocation) return;
  button.classList.remove("fr-hidden");
  var label = button.textContent;
  window.addEventListener("pageshow", function () {  // back from the results: usable again
    button.disabled = false;
    button.textContent = label;
  });
  button.addEventListener("click", function () {
    error.classList.add("fr-hidden");
    button.disabled = true;
    button.textContent = button.dataset.locating;
    navigator.geolocation.getCurrentPosition(function (position) {
      lat.value = position.coords.latitude.toFixed(2);
      lng.value = position.coords.longitude.toFixed(2);
      postal.value = "";
      submit();
    }, function () {
      button.disabled = false;
      button.textContent = label;
      error.textContent = button.dataset.denied;
      error.classList.remove("fr-hidden");
    }, {maximumAge: 600000, timeout: 15000});
  });
})();
