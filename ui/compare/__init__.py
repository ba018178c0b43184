"""The Compare page's own code (views/compare.py draws it): its presets, editor and summary
(logic), its chart builders (charts) and its link parameters (state)."""
