"""Kopilka: loyalty engine and POS integration hub."""
