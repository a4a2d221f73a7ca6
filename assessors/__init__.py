"""Assessors: frameworks as data, the check engine, the cross-framework audit and the security gate."""
