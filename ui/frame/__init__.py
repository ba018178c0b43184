"""The app's frame, shared by every page: the sidebar, the share link's codec (url_state, the only
module that touches ``st.query_params``), i18n and the shared catalogues (locales/), text
escaping, error messages, present mode and the page's layout rules, teacher links and their QR
code (classroom), and the controls several pages show (shared_controls)."""
