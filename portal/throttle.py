"""A sliding-window counter per key (an address, a client), held in the portal's process."""

import threading
import time
from collections import defaultdict, deque


class Throttle:
    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit, self.window = limit, window_seconds
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one attempt for `key`; False when it is over the limit within the window."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            if len(self._hits) > 10_000:  # keys not seen within the window are forgotten
                for key_seen in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
                    del self._hits[key_seen]
            return True
