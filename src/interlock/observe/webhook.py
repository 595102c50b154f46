"""Pages as a webhook: POST JSON to the on-call system, retried with a bound, off the
order path.

`WebhookPager(url)` is a `Pager`: calling it only queues the page (it never blocks, so a
logging handler or the readiness watch can page from any thread); one daemon thread posts
each page in order, retrying a failed POST `retries` times with a doubling pause, then
drops it with a warning (never an error: an error would be an alert, and page again).
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import urllib.error
import urllib.request

from interlock.observe.readiness import Page

_log = logging.getLogger(__name__)


class WebhookPager:
    """Queue pages; a thread of its own POSTs them (`{"ts", "to", "text", "source"}`)."""

    def __init__(
        self,
        url: str,
        *,
        source: str,
        retries: int = 3,
        timeout_s: float = 2.0,
        backoff_s: float = 0.2,
        max_queued: int = 1_000,
    ) -> None:
        self.url = url
        self.source = source
        self.retries = retries
        self.timeout_s = timeout_s
        self.backoff_s = backoff_s
        self.sent = 0
        self.dropped = 0
        self._queue: queue.Queue[Page | None] = queue.Queue(max_queued)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pager", daemon=True)
        self._thread.start()

    def __call__(self, page: Page) -> None:
        try:
            self._queue.put_nowait(page)
        except queue.Full:
            self.dropped += 1

    def close(self, timeout_s: float = 2.0) -> None:
        """Send what is queued (within `timeout_s`), then stop the thread."""
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=timeout_s)
        self._thread.join(timeout_s)
        self._stop.set()

    def _run(self) -> None:
        while True:
            page = self._queue.get()
            if page is None:
                return
            self._post(page)

    def _post(self, page: Page) -> None:
        body = json.dumps(
            {"ts": page.ts, "to": page.to, "text": page.text, "source": self.source}
        ).encode()
        pause = self.backoff_s
        for attempt in range(1 + self.retries):
            request = urllib.request.Request(
                self.url, body, {"Content-Type": "application/json"}, method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    if 200 <= response.status < 300:
                        self.sent += 1
                        return
            except (urllib.error.URLError, OSError, ValueError) as exc:
                why = str(exc)
            else:
                why = f"HTTP {response.status}"
            if attempt < self.retries and not self._stop.wait(pause):
                pause *= 2
                continue
            self.dropped += 1
            _log.warning("page to %s dropped after %d attempt(s): %s: %s",
                         self.url, attempt + 1, why, page.text[:200])  # fmt: skip
            return
