// The signup page is cached for everyone (no CSRF token in it): fetch a token, then post
// the form as JSON to /api/v1/signup. A file, not an inline script: the page's CSP has no
// nonce (README, "Security"). Without this script, or when the token cannot be had (cookies
// blocked, network), the form posts itself: the server accepts a same-origin POST
// (portal/csrf.py). Field errors are drawn as the server draws them (portal/forms.py): the
// group's error class, a <p class="fr-error-text" id="<input id>_error"> the input names in
// aria-describedby.
(function () {
  var form = document.getElementById("signup-form");
  if (!form) return;
  var tokenPromise = fetch("/api/v1/csrf", {credentials: "same-origin"}).then(function (r) {
    if (!r.ok) throw new Error("no token");
    return r.json();
  });

  function describedBy(input, id, add) {
    var ids = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (x) {
      return x && x !== id;
    });
    if (add) ids.push(id);
    if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
    else input.removeAttribute("aria-describedby");
  }

  function clearErrors() {
    form.querySelectorAll("[data-field]").forEach(function (group) {
      var base = group.classList[0];  // the group's own class comes first
      group.classList.remove(base + "--error");
    });
    form.querySelectorAll(".fr-error-text").forEach(function (p) {
      var input = document.getElementById(p.id.replace(/_error$/, ""));
      if (input) {
        input.removeAttribute("aria-invalid");
        input.classList.remove("fr-input--error", "fr-select--error");
        describedBy(input, p.id, false);
      }
      p.parentNode.removeChild(p);
    });
    document.getElementById("signup-error").hidden = true;
  }

  function showError(name, messages) {
    var group = form.querySelector('[data-field="' + name + '"]');
    var input = form.elements[name];
    if (!group || !input || !input.id) return false;
    var base = group.classList[0];
    group.classList.add(base + "--error");
    var p = document.createElement("p");
    p.className = "fr-error-text";
    p.id = input.id + "_error";
    p.textContent = messages.join(" ");
    group.appendChild(p);
    input.setAttribute("aria-invalid", "true");
    if (input.classList.contains("fr-input")) input.classList.add("fr-input--error");
    if (input.classList.contains("fr-select")) input.classList.add("fr-select--error");
    describedBy(input, p.id, true);
    return true;
  }

  function showMessage(text) {
    var box = document.getElementById("signup-error");
    box.querySelector("p").textContent = text;
    box.hidden = false;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    tokenPromise.then(function (data) {
      var body = {};
      new FormData(form).forEach(function (value, key) { body[key] = value; });
      body.consent = form.elements.consent.checked;
      body.language = document.documentElement.lang;
      return fetch("/api/v1/signup", {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": data.csrfToken},
        body: JSON.stringify(body)
      }).then(function (response) {
        if (response.status === 403) throw new Error("token refused");
        return response.json().then(function (json) { return {status: response.status, json: json}; });
      });
    }).then(function (result) {
      clearErrors();
      if (result.status === 202) { form.hidden = true; document.getElementById("signup-done").hidden = false; return; }
      var shown = false;
      Object.keys(result.json.fields || {}).forEach(function (name) {
        shown = showError(name, result.json.fields[name]) || shown;
      });
      if (shown) {
        var first = form.querySelector("[aria-invalid=true]");
        if (first) first.focus();
      } else {
        showMessage(result.json.message || document.getElementById("signup-error").dataset.fallback);
      }
    }, function () {
      form.submit();  // no token to be had: the browser's own POST (not the submit event)
    });
  });
})();
