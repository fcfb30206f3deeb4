"""Drives the upload page of a running `fishops serve` in headless Chromium (Debian's chromium and
chromium-driver, Selenium from PyPI): picks IMAGE in the file input and waits for the top class.

usage: upload_page_test.py URL IMAGE EXPECTED_LABEL
Prints the labels shown; exits 0 when the first one starts with EXPECTED_LABEL.
"""
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait


def main(url, image, expected):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(url)
        wait = WebDriverWait(driver, 30)
        wait.until(lambda d: "v" in d.find_element(By.ID, "model").text and "loading" not in d.find_element(By.ID, "model").text)
        driver.find_element(By.ID, "file").send_keys(image)
        wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "#results li .name")))
        labels = [element.text for element in driver.find_elements(By.CSS_SELECTOR, "#results li .name")]
        print("model:", driver.find_element(By.ID, "model").text)
        print("labels:", labels)
        print("error:", driver.find_element(By.ID, "error").text)
        return 0 if labels and labels[0].startswith(expected) else 1
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
