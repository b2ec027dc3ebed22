"""Opens a report's HTML page in real headless Chromium and checks it as a reader would see it.

    check_report.py PAGE.html REPORT.json SCREENSHOT.png

Checks: no console error; no network request but the page itself; every chart (inline SVG) and the borough map
render with a size; every summary figure shown equals the JSON report's; every table has column headers and a
caption, every chart a title; it prints (Chromium's PDF, kept beside the screenshot); on a phone-sized window
nothing but the tables' own scroll boxes is wider than the screen. Keeps a full-page screenshot. Prints what it checked as one JSON line; exits 1 naming every failure.
"""

import base64
import json
import pathlib
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service


def main() -> int:
    page, report_path, screenshot = (pathlib.Path(p).resolve() for p in sys.argv[1:4])
    report = json.loads(report_path.read_text())
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    failures = []
    checked = {}
    try:
        url = page.as_uri()
        driver.get(url)
        errors = [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        if errors:
            failures.append(f"console errors: {errors}")
        requests = set()
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                requests.add(message["params"]["request"]["url"])
        foreign = sorted(r for r in requests if r != url and not r.startswith("data:"))
        if foreign:
            failures.append(f"network requests besides the page: {foreign}")
        checked["requests"] = sorted(requests)

        charts = driver.find_elements("css selector", "svg[role=img]")
        for chart in charts:
            size = chart.size
            if size["width"] < 50 or size["height"] < 30:
                failures.append(f"a chart did not render: {chart.get_attribute('aria-labelledby')} is {size}")
            if not chart.find_elements("css selector", "title"):
                failures.append("a chart has no title")
        checked["charts"] = len(charts)
        if not charts:
            failures.append("no chart on the page")
        boroughs = driver.find_elements("css selector", "path[data-gss]")
        drawn = [b for b in boroughs if b.size["width"] > 0 and b.size["height"] > 0]
        checked["map_boroughs"] = len(drawn)
        if len(drawn) != 33:
            failures.append(f"the map drew {len(drawn)} of London's 33 authorities")

        fields = driver.find_elements("css selector", "[data-field]")
        checked["figures"] = len(fields)
        if not fields:
            failures.append("no summary figure on the page")
        for cell in fields:
            value = report
            for part in cell.get_attribute("data-field").split("."):
                value = value.get(part) if isinstance(value, dict) else None
            shown = cell.text.strip()
            if value is None:  # absent from the JSON: shown as a dash
                same = shown == "—"
            else:
                same = shown == str(value) or (isinstance(value, (int, float)) and shown.replace(".", "", 1).isdigit() and float(shown) == value)
            if not same:
                failures.append(f"{cell.get_attribute('data-field')}: the page shows {cell.text!r}, the JSON has {value!r}")

        for table in driver.find_elements("css selector", "table"):
            if not table.find_elements("css selector", "caption") or not table.find_elements("css selector", "thead th[scope=col]"):
                failures.append(f"table {table.get_attribute('data-section')} lacks a caption or column headers")
        checked["tables"] = len(driver.find_elements("css selector", "table"))
        if not driver.find_elements("css selector", "h1") or len(driver.find_elements("css selector", "h2")) < 2:
            failures.append("the page lacks its headings")

        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1280, min(height + 100, 16000))
        driver.save_screenshot(str(screenshot))

        # In print: the page lays out on paper (Chromium's own PDF), its tables and charts included.
        pdf = driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": False})
        pdf_bytes = base64.b64decode(pdf["data"])
        pages = pdf_bytes.count(b"/Type /Page") - pdf_bytes.count(b"/Type /Pages")
        checked["printed_pages"] = pages
        if not pdf_bytes.startswith(b"%PDF") or pages < 1:
            failures.append("the page does not print")
        screenshot.with_suffix(".pdf").write_bytes(pdf_bytes)

        driver.set_window_size(390, 844)
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        checked["phone_overflow_px"] = overflow
        if overflow > 1:
            failures.append(f"on a phone the page is {overflow}px wider than the screen")
    finally:
        driver.quit()
    print(json.dumps(checked))
    for failure in failures:
        print("FAIL:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
