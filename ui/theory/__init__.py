"""The Phase and Spectrum pages' own code (views/phase.py, views/spectrum.py draw them): their
chart builders (charts), the phase map's link parameter and click → config mapping (state) and
the click callback (click)."""
