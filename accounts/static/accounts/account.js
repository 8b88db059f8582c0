// The header's account area on pages served from the CDN (accounts/account_area.py). Such a
// page is the same for everyone and shows "Volunteer" and "Sign in"; when the browser holds
// the `signed_in` hint, ask /api/v1/me and put the signed-in menu in their place, built as
// accounts/templates/accounts/_account_area.html builds it on private pages. Names go in with
// textContent only, never parsed as HTML. The sign-out form carries no CSRF token: the server
// takes a same-origin POST (portal/csrf.py). base.html draws the area twice (header tools and
// small screens' menu): both are filled, each with its collapse id.
(function () {
  "use strict";
  var HINT = "signed_in";

  function lists() {
    return document.querySelectorAll('[data-account-state="public"]');
  }

  function hasHint() {
    return document.cookie.split(";").some(function (part) {
      return part.trim().indexOf(HINT + "=") === 0;
    });
  }

  if (!lists().length || !hasHint() || !window.fetch) return;

  function ours(url) {
    return typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/";
  }

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function build(menu, id) {
    var item = element("li", {"data-account": "in"});
    var nav = element("nav", {class: "fr-nav account-menu", role: "navigation", "aria-label": menu.title});
    var navItem = element("div", {class: "fr-nav__item"});
    var button = element("button", {
      type: "button",
      class: "fr-btn fr-icon-account-circle-line",
      "aria-expanded": "false",
      "aria-controls": id
    }, menu.label);
    var collapse = element("div", {class: "fr-collapse fr-menu", id: id});
    var list = element("ul", {class: "fr-menu__list"});
    (menu.links || []).forEach(function (link) {
      if (!ours(link.url)) return;
      var attributes = {class: "fr-nav__link", href: link.url, "data-kind": link.kind};
      if (link.url === window.location.pathname) attributes["aria-current"] = "page";
      var entry = element("li");
      entry.appendChild(element("a", attributes, link.label));
      list.appendChild(entry);
    });
    if (menu.sign_out && ours(menu.sign_out.url)) {
      var form = element("form", {method: "post", action: menu.sign_out.url});
      form.appendChild(element("button", {type: "submit", class: "fr-nav__link"}, menu.sign_out.label));
      var last = element("li");
      last.appendChild(form);
      list.appendChild(last);
    }
    collapse.appendChild(list);
    navItem.appendChild(button);
    navItem.appendChild(collapse);
    nav.appendChild(navItem);
    item.appendChild(nav);
    return item;
  }

  function show(menu) {
    Array.prototype.forEach.call(lists(), function (list, index) {
      var id = list.getAttribute("data-account-menu") || "account-menu-" + index;
      Array.prototype.forEach.call(list.querySelectorAll('[data-account="out"]'), function (out) {
        out.parentNode.removeChild(out);
      });
      list.insertBefore(build(menu, id), list.firstChild);
      list.setAttribute("data-account-state", "in");
    });
  }

  var language = document.documentElement.getAttribute("lang") || "";
  fetch("/api/v1/me?language=" + encodeURIComponent(language), {
    credentials: "same-origin",
    headers: {Accept: "application/json"}
  }).then(function (response) {
    // 204: signed out (the answer drops the hint too); an error: keep the signed-out links.
    return response.status === 200 ? response.json() : null;
  }).then(function (menu) {
    if (menu) show(menu);
  }).catch(function () {});
})();
