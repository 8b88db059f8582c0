// The signup page is cached for everyone (no CSRF token in it): fetch a token, then post
// the form as JSON to /api/v1/signup. A file, not an inline script: the page's CSP has no
// nonce (README, "Security").
(function () {
  var form = document.getElementById("signup-form");
  if (!form) return;
  var tokenPromise = fetch("/api/v1/csrf", {credentials: "same-origin"}).then(function (r) { return r.json(); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    tokenPromise.then(function (data) {
      var body = {};
      new FormData(form).forEach(function (value, key) { body[key] = value; });
      delete body.csrfmiddlewaretoken;
      body.consent = form.elements.consent.checked;
      body.language = document.documentElement.lang;
      return fetch("/api/v1/signup", {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": data.csrfToken},
        body: JSON.stringify(body)
      });
    }).then(function (response) {
      return response.json().then(function (json) { return {status: response.status, json: json}; });
    }).then(function (result) {
      form.querySelectorAll("[data-error-for]").forEach(function (p) { p.hidden = true; p.textContent = ""; });
      document.getElementById("signup-error").hidden = true;
      if (result.status === 202) { form.hidden = true; document.getElementById("signup-done").hidden = false; return; }
      if (result.json.fields) {
        Object.keys(result.json.fields).forEach(function (name) {
          var p = form.querySelector('[data-error-for="' + name + '"]');
          if (p) { p.textContent = result.json.fields[name].join(" "); p.hidden = false; }
        });
      } else {
        var box = document.getElementById("signup-error"); box.hidden = false;
        box.querySelector("p").textContent = result.json.message || "Error";
      }
    });
  });
})();
