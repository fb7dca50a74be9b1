"""Open the built site in headless Chromium and fail if a page is broken.

Serves ``docs/_build/html`` on localhost, opens every page of the site (the landing page, the
environment pages, the reference pages and every executed tutorial) and fails when an image or
figure does not load (``naturalWidth == 0``), the page shows a Sphinx or execution error (a
"Traceback", an "Error" admonition, a 404), or the page is empty. Screenshots go to
``docs/_build/screenshots`` (build artefacts).

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them) and selenium;
without Chromium it says so and exits 0, the one case it skips.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import sys
import threading
from pathlib import Path

FIRST = ("index.html", "environment.html", "tutorials/quickstart.html")
SKIP = {"genindex.html", "search.html", "py-modindex.html"}  # generated indexes, no content
ERRORS = ("Traceback (most recent call last)", "Sphinx error", "404 Not Found")
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
DRIVER = "/usr/bin/chromedriver"


def _browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = next((b for b in CHROMIUM if Path(b).exists()), shutil.which("chromium"))
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,2400",
                 "--disable-dev-shm-usage"):  # fmt: skip
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(DRIVER), options=options)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def pages(site: Path) -> list[str]:
    """The pages to open: the issue's three first, then every other content page."""
    found = sorted(
        p.relative_to(site).as_posix()
        for p in site.rglob("*.html")
        if p.name not in SKIP
        and (
            not p.relative_to(site).parts[0].startswith("_")
            or p.relative_to(site).parts[0] == "_generated"  # pages generated from docstrings
        )
    )
    return [p for p in FIRST if p in found] + [p for p in found if p not in FIRST]


def check(site: Path) -> list[str]:
    """Problems found on the pages (empty when the site is fine)."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    shots = site.parent / "screenshots"
    shots.mkdir(exist_ok=True)
    problems = []
    browser = _browser()
    try:
        listed = pages(site)
        problems += [f"{page}: missing from the build" for page in FIRST if page not in listed]
        for page in listed:
            url = f"http://127.0.0.1:{server.server_port}/{page}"
            browser.get(url)
            browser.execute_async_script(
                "const done = arguments[0];"
                "Promise.all(Array.from(document.images).map(i => i.complete ? 0 :"
                " new Promise(r => { i.onload = i.onerror = r; }))).then(done);"
            )
            broken = browser.execute_script(
                "return Array.from(document.images)"
                ".filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src);"
            )
            images = browser.execute_script("return document.images.length;")
            text = browser.execute_script("return document.body.innerText;")
            errors = browser.execute_script(
                "return Array.from(document.querySelectorAll('.admonition.error, .error'))"
                ".map(e => e.innerText.slice(0, 200));"
            )
            browser.save_screenshot(str(shots / (page.replace("/", "_") + ".png")))
            for src in broken:
                problems.append(f"{page}: image does not load: {src}")
            for marker in ERRORS:
                if marker in text:
                    problems.append(f"{page}: shows {marker!r}")
            for error in errors:
                problems.append(f"{page}: error block: {error}")
            if len(text.strip()) < 200:
                problems.append(f"{page}: nearly empty ({len(text.strip())} characters)")
            print(f"{page}: {images} images, {len(broken)} broken, {len(text):,} characters")
    finally:
        browser.quit()
        server.shutdown()
    return problems


def main() -> int:
    site = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/_build/html")
    if not (site / "index.html").exists():
        print(f"check_site: {site}/index.html is missing: run `make docs` first")
        return 1
    if not any(Path(b).exists() for b in CHROMIUM) or not Path(DRIVER).exists():
        print(
            "check_site: SKIPPED, Chromium or ChromeDriver is not installed "
            "(apt-get install chromium chromium-driver); the site was built but not opened"
        )
        return 0
    problems = check(site)
    for problem in problems:
        print(f"check_site: {problem}")
    verdict = "FAILED" if problems else "passed"
    print(f"check_site: {verdict}; screenshots in {site.parent}/screenshots")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
