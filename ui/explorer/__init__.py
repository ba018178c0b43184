"""The Explorer page's own code (views/explorer.py draws it): its chart builders."""
