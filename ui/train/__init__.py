"""The Train page's own code (views/train.py draws it): training set-ups, lessons and result
sentences (logic), its chart builders (charts) and its link parameters (state)."""
