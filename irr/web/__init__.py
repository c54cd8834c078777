"""The web application of ``irr serve`` (layer 6, beside :mod:`irr.cli`; neither imports the other):
:mod:`irr.web.app` (the pages and their JSON twins) and :mod:`irr.web.security` (passphrase,
CSRF tokens, attempt limits)."""
