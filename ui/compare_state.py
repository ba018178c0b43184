"""URL parameters of the Compare page (filled in with the page): name → (session key, default,
parser, formatter). Read by ui.url_state, the one module that touches the URL."""

from __future__ import annotations

URL_PARAMS: dict[str, tuple] = {}
