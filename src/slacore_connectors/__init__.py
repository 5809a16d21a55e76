"""slacore_connectors: the world outside the domain core.

CRM connectors (registered as ``slacore`` plugins), the store, sync jobs and the ``slacore``
command line. This package imports :mod:`slacore`; the core never imports it.
"""
