"""Services: the only writers of governance rows. One module per subdomain, functions named
``<entity>_<action>``, each atomic, permission-checked and recorded in the ledger."""
