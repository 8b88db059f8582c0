"""What the journeys check on every page they visit, as a person would see it, and axe-core.

`Browser.see(page, label)` runs after each navigation: the design system's stylesheet is applied
(Marianne), the console stayed clean (no error, no uncaught exception, no asset or script
request refused or failed), every form control is drawn, no error message shows before a
submit, keyboard focus is visible, nothing is wider than the window; then a full-page
screenshot lands in tests/browser/screenshots/<test>/ (git-ignored), kept on every run.

axe-core comes from tests/browser/node_modules (`npm ci` there, pinned by package-lock.json). It
is evaluated through the DevTools protocol, like @axe-core/playwright does, rather than added as
a <script> tag: the page's Content-Security-Policy stays whole, so the console check in the same
browser context still sees any CSP violation.
"""

import re
import uuid
from pathlib import Path

from django.test import override_settings
from playwright.sync_api import Browser as Chromium
from playwright.sync_api import Page

from tests.otp_support import current_code, verified_device

BASE = "https://localhost"
HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE / "screenshots"
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = ("serious", "critical")
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}

# Elements the design system shows when a field or a form is in error.
ERROR_SELECTOR = (
    ".fr-error-text, .fr-input-group--error, .fr-select-group--error, "
    ".fr-fieldset--error, .fr-message--error"
)

# Every visible form control, and how it is drawn. Depending on the DSFR version, checkboxes and
# radios are drawn on the input itself or on their label (::before, the input transparent).
CONTROLS_JS = """() => {
  const drawn = (style) =>
    (style.boxShadow && style.boxShadow !== 'none') ||
    (style.backgroundImage && style.backgroundImage !== 'none') ||
    (style.backgroundColor && !/rgba\\(0, 0, 0, 0\\)|transparent/.test(style.backgroundColor)) ||
    ['Top', 'Right', 'Bottom', 'Left'].some((side) =>
      parseFloat(style['border' + side + 'Width']) > 0 &&
      style['border' + side + 'Style'] !== 'none');
  const problems = [];
  for (const el of document.querySelectorAll('input, select, textarea, button')) {
    if (el.type === 'hidden' || el.closest('[hidden]')) continue;
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    const name = el.outerHTML.slice(0, 120);
    if (el.type === 'checkbox' || el.type === 'radio') {
      const label = el.labels && el.labels[0];
      if (!label) { problems.push('no label: ' + name); continue; }
      const box = el.getBoundingClientRect();
      const own = getComputedStyle(el);
      const onInput = box.width > 0 && box.height > 0 && own.opacity !== '0' && drawn(own);
      const mark = getComputedStyle(label, '::before');  // its own box, beside the label text
      const onMark = parseFloat(mark.width) > 0 && parseFloat(mark.height) > 0 && drawn(mark);
      const onLabel = onMark || drawn(getComputedStyle(label));  // radios: the label's background
      if (!onInput && !onLabel) problems.push('not drawn: ' + name);
      continue;
    }
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height) { problems.push('zero size: ' + name); continue; }
    // Buttons may be drawn as text (header tools, accordions); fields must show their box.
    if (el.tagName !== 'BUTTON' && !drawn(getComputedStyle(el)))
      problems.push('no border, shadow or background: ' + name);
  }
  return problems;
}"""

FOCUS_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return 'nothing focused';
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow && style.boxShadow !== 'none';
  return outline || shadow ? '' : 'focus not visible on ' + el.outerHTML.slice(0, 120);
}"""

OVERFLOW_JS = """() => {
  const root = document.documentElement;
  const beyond = (el) => el.getBoundingClientRect().right > root.clientWidth + 0.5;
  const wide = [...document.body.querySelectorAll('*')]
    .filter((el) => beyond(el) && ![...el.children].some(beyond))
    .slice(0, 3).map((el) => el.outerHTML.slice(0, 150));
  return [root.scrollWidth, root.clientWidth, wide];
}"""

# Wagtail's admin stylesheet is applied: its core CSS sets the body's font to a sans-serif
# system stack, where an unstyled page keeps the browser's serif default.
ADMIN_STYLED_JS = """() => {
  const linked = [...document.styleSheets].some(
    (sheet) => /wagtailadmin\\/css\\/core/.test(sheet.href || ''));
  const font = getComputedStyle(document.body).fontFamily;
  return linked && !/^"?Times/.test(font);
}"""

AXE_RUN_JS = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: 'tag', values: tags},
    resultTypes: ['violations'],
  });
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' :: ' + n.failureSummary),
  }));
}"""


class Browser:
    """One test's browser contexts, each page watched from its first request."""

    def __init__(self, chromium: Chromium, test_name: str):
        self.chromium = chromium
        self.folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", test_name)
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.contexts = []
        self.problems: dict[Page, list[str]] = {}
        self.shots = 0

    def page(self, viewport=PHONE, javascript=True, **options) -> Page:
        """A new browser context (its own cookies) and a page in it."""
        context = self.chromium.new_context(
            viewport=viewport,
            ignore_https_errors=True,  # the run's own certificate
            java_script_enabled=javascript,
            locale="fr-FR",
            **options,
        )
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        self.watch(page)
        return page

    def watch(self, page: Page) -> None:
        problems = self.problems.setdefault(page, [])

        def console(message):
            if message.type == "error":
                problems.append(f"console: {message.text}")

        def response(resp):
            if resp.status >= 400 and resp.request.resource_type != "document":
                problems.append(f"{resp.status} {resp.request.resource_type} {resp.url}")

        def failed(request):
            # ERR_ABORTED: the page moved on before a request finished (a favicon cut short by
            # the next navigation), not a failure of the file; 4xx/5xx are caught by `response`.
            if request.resource_type != "document" and request.failure != "net::ERR_ABORTED":
                problems.append(f"failed {request.resource_type} {request.url}: {request.failure}")

        page.on("console", console)
        page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
        page.on("response", response)
        page.on("requestfailed", failed)

    def seen(self, page: Page, label: str, status: int | None) -> list[str]:
        """Wait for the page, photograph it, and take what the console and network said."""
        page.wait_for_load_state("load")
        self.screenshot(page, label)
        problems = [
            problem
            for problem in self.problems[page]
            # Chromium logs the document's own error status, which the test asserts itself.
            if not (status and f"status of {status}" in problem)
        ]
        self.problems[page].clear()
        return problems

    def see_admin(self, page: Page, label: str, *, status: int | None = None):
        """The same look at a Wagtail admin page: its own stylesheet applied (not the browser's
        default serif), a clean console, nothing wider than the window."""
        problems = self.seen(page, label, status)
        if not page.evaluate(ADMIN_STYLED_JS):
            problems.append("Wagtail admin stylesheet not applied")
        scroll, client, wide = page.evaluate(OVERFLOW_JS)
        if scroll > client:
            problems.append(f"overflows horizontally: {scroll}px wide for {client}px: {wide}")
        assert not problems, f"{label} ({page.url}):\n" + "\n".join(problems)

    def see(self, page: Page, label: str, *, errors_expected=False, status: int | None = None):
        """Check what a person sees on the page just reached, then photograph it."""
        problems = self.seen(page, label, status)
        font = page.evaluate("getComputedStyle(document.body).fontFamily")
        if "Marianne" not in font:
            problems.append(f"design system stylesheet not applied (font: {font})")
        problems += page.evaluate(CONTROLS_JS)
        if not errors_expected:
            shown = [
                el.evaluate("e => e.outerHTML.slice(0, 120)")
                for el in page.locator(ERROR_SELECTOR).all()
                if el.is_visible()
            ]
            problems += [f"error shown before any submit: {html}" for html in shown]
        scroll, client, wide = page.evaluate(OVERFLOW_JS)
        if scroll > client:
            problems.append(f"overflows horizontally: {scroll}px wide for {client}px: {wide}")
        page.keyboard.press("Tab")
        if focus := page.evaluate(FOCUS_JS):
            problems.append(focus)
        # The focused skip link shows above the header and moves the page down: let go of it
        # before the journey clicks on.
        page.evaluate("document.activeElement && document.activeElement.blur()")
        assert not problems, f"{label} ({page.url}):\n" + "\n".join(problems)

    def screenshot(self, page: Page, label: str) -> Path:
        self.shots += 1
        name = re.sub(r"[^\w.-]+", "_", label)
        path = self.folder / f"{self.shots:02d}-{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    def close(self, failed: bool = False):
        if failed:
            for context in self.contexts:
                for page in context.pages:
                    self.screenshot(page, "on-failure")
        for context in self.contexts:
            context.close()


def axe_violations(page: Page) -> list[dict]:
    """Serious and critical WCAG 2.1 A/AA violations on the page, by axe-core."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    found = page.evaluate(AXE_RUN_JS, WCAG_TAGS)
    return [violation for violation in found if violation["impact"] in BLOCKING_IMPACTS]


def unique_email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.org"


PASSWORD = "Un mot de passe tres long 42"


def account(kind, *args, prefix: str):
    """An account made with the factories, with a password the production server can check
    (the test settings hash with MD5, which production does not accept)."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"]):
        person = kind(*args, email=unique_email(prefix))
        person.set_password(PASSWORD)
        person.save(update_fields=["password"])
    return person


def staff_sign_in(browser, page, person, next_path: str) -> None:
    """The admin's two steps: password, then the current code of the person's authenticator
    (a confirmed TOTP device made here, as enrolment would: editors, who may do without one,
    are then asked for it too)."""
    device = verified_device(person)
    page.goto(f"{BASE}/admin/login/?next={next_path}")
    browser.see_admin(page, "admin sign in")
    page.locator("#id_username").fill(person.email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/admin/2fa/"))
    browser.see_admin(page, "two-factor code")
    page.locator("#id_code").fill(current_code(device))
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(f"{BASE}{next_path}")


def sign_in(browser, page, email: str, next_path: str) -> None:
    page.goto(f"{BASE}/fr/compte/connexion/?next={next_path}")
    browser.see(page, "sign in")
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{BASE}{next_path}")
