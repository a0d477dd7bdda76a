"""Browser tests: Debian's Chromium, driven by Playwright (async API), against a real JupyterLab."""
