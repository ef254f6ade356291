"""Browser tests: a real loginflow server on 127.0.0.1, driven by Chromium through Playwright."""
