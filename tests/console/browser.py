"""A headless Chromium driven by selenium (Debian's `chromium` and `chromium-driver`), for
the console tests: skip with the reason when either is missing."""
import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
INSECURE_HOST = "console.s3ish.test"
ARTIFACTS = os.environ.get("S3ISH_CONSOLE_ARTIFACTS") or os.path.join(
    os.path.dirname(__file__), "artifacts")


def start_browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed "
                                    "(pip install -e '.[test]')")
    if not (CHROMIUM and DRIVER):
        pytest.skip("the console test needs Debian's chromium and chromium-driver "
                    "(apt-get install -y chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1440,1000", "--hide-scrollbars", "--no-first-run",
                "--disable-extensions", "--password-store=basic",
                # A name for 127.0.0.1 that is not "localhost": an insecure context.
                f"--host-resolver-rules=MAP {INSECURE_HOST} 127.0.0.1"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(DRIVER), options=opts)


def screenshot(driver, name: str) -> str:
    """The whole page (the window grown to the document's height), as ARTIFACTS/name.png."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    height = driver.execute_script("return Math.max(document.body.scrollHeight, "
                                   "document.documentElement.scrollHeight)")
    # The window's height includes the browser's own frame: the viewport is ~160 px less.
    driver.set_window_size(1440, max(1000, min(int(height) + 200, 4000)))
    path = os.path.join(ARTIFACTS, f"{name}.png")
    driver.save_screenshot(path)
    driver.set_window_size(1440, 1000)
    return path
