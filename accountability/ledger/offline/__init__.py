"""The ledger's cryptography and its standalone verifier, with no Django dependency.

Everything here imports only the standard library and ``cryptography``, so outside auditors can run
``python -m accountability.ledger.offline verify EXPORT_DIR --vkey …`` on a machine without Django. The
portal uses the same code, so the verifier and the log cannot drift apart.
"""
