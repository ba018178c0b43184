"""URL parameters of the Phase and Spectrum pages (filled in with those pages): name →
(session key, default, parser, formatter). Read by ui.url_state, the one module that touches the
URL."""

from __future__ import annotations

URL_PARAMS: dict[str, tuple] = {}
